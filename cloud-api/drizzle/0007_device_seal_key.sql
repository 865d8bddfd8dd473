-- The controller's X25519 public key (SPEC SEAL-1), sent with its enrollment
-- code: the cloud seals each pass's TOTP secret to it, so the broker and the
-- wire never see one in the clear. NULL for a controller enrolled without one
-- (it is sent no secrets, SEAL-5). A re-enrollment replaces it.
ALTER TABLE "gates" ADD COLUMN "device_seal_key" text;
