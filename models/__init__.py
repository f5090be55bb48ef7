"""Documents, value types, the upload file format and the store (the only driver user)."""
