"""The HTTP API's parts, one concept a module; ``faces.api.create_app`` puts them together.

``services`` holds what the routes call (read with ``Depends``), ``auth`` the bearer-token
scopes, ``errors`` the JSON errors and their handlers, ``limits`` the request size limit; each
other module is one ``APIRouter``: ``health``, ``conversations``, ``webchat``, ``helpdesks``,
``knowledge``, ``orders``.
"""
