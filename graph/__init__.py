"""The GraphQL surface: Strawberry types, inputs, roots, the ASGI app and the CLI."""
