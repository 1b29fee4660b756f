-- The model catalog (issue 20, docs/api.md): what `./earnidle model add` reads from a GGUF file's metadata.
-- Portable SQL: H2 2.x (DATABASE_TO_LOWER=TRUE) and PostgreSQL. Rows from before this migration get their facts
-- when the backend (re)registers the file (the synthetic model at every start) or `model add` replaces them.
ALTER TABLE models ADD COLUMN display_name VARCHAR(200);
ALTER TABLE models ADD COLUMN architecture VARCHAR(64);
ALTER TABLE models ADD COLUMN quantization VARCHAR(32);
ALTER TABLE models ADD COLUMN parameter_count BIGINT;
-- how chat messages are rendered: 'llama3.2', 'llama3', or NULL (the model serves completions only)
ALTER TABLE models ADD COLUMN chat_format VARCHAR(16);
ALTER TABLE models ADD COLUMN chat_template VARCHAR(100000);
-- what a node needs to hold the model: the file plus the KV cache at full context (f32)
ALTER TABLE models ADD COLUMN memory_bytes BIGINT;
