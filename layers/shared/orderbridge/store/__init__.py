"""DynamoDB access. Tables, keys and access patterns are documented in docs/data-model.md."""
