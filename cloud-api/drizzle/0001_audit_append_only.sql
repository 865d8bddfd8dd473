-- The audit log is append-only: no code path may rewrite history, so the database refuses it too.
CREATE FUNCTION gatehouse_audit_logs_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_logs is append-only';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_logs_no_update BEFORE UPDATE OR DELETE ON audit_logs
  FOR EACH ROW EXECUTE FUNCTION gatehouse_audit_logs_immutable();
