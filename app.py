"""Souffleur's Streamlit app (the agent desk arrives with the app issue)."""

import streamlit as st

from copilot import load_settings, open_workspace


@st.cache_resource
def workspace():  # type: ignore[no-untyped-def]
    return open_workspace(load_settings())


st.set_page_config(page_title="Souffleur", layout="wide")
st.title("Souffleur")
ws = workspace()
st.caption(f"{ws.kb.stats()['documents']} documents indexed, {ws.orders.count()} orders.")
query = st.text_input("Test a question")
if query:
    for hit in ws.kb.search(query, k=5):
        with st.expander(f"{hit.rank}. {hit.title} ({hit.score:.4f})"):
            st.text(hit.snippet)
