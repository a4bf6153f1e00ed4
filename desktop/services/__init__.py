"""Services: catalog of packs and models, opponents (ONNX), the local SQLite store."""
