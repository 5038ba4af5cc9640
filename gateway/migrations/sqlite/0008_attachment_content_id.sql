-- The Content-ID of an inline mail part, so the mail's HTML (cid: references)
-- can show the stored image.
ALTER TABLE attachments ADD COLUMN content_id TEXT;
