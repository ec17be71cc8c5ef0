-- DPoP binding of refresh tokens (RFC 9449 §5): the key thumbprint.
ALTER TABLE refresh_tokens ADD COLUMN jkt TEXT NOT NULL DEFAULT '';
