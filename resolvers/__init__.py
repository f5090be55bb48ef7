"""Use-cases: async functions over the store and plain arguments. No Strawberry here."""
