"""Request and response bodies, one class per direction (`XCreate`, `XPublic`, ...)."""
