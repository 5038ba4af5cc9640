-- The language an agent reads and writes: the inbox's texts, and what
-- customer messages are translated into for them. NULL: the browser's
-- language for the inbox, `translation.agent_language` for translations.
ALTER TABLE agents ADD COLUMN language TEXT;
