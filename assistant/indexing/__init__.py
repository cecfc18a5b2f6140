"""The persistent index: catalog, keyword store, vector store, the builder and the reader."""
