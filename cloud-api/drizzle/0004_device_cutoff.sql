ALTER TABLE "gates" ADD COLUMN "disabled_at" timestamp with time zone;--> statement-breakpoint
-- A controller that loses its identity (gate deleted, re-enrolled under a new
-- device id, or disabled) is announced on the channel 'gatehouse_device_revoked'
-- at commit, so that every cloud instance listening there drops it from its
-- caches and stops serving it at once. A trigger rather than application code:
-- no path that changes a gate (an admin call, a script, a hard delete) can forget it.
CREATE FUNCTION gatehouse_gate_device_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.device_id IS NULL THEN
    RETURN NULL;
  ELSIF TG_OP = 'DELETE'
     OR NEW.device_id IS DISTINCT FROM OLD.device_id
     OR (NEW.deleted_at IS NOT NULL AND OLD.deleted_at IS NULL)
     OR (NEW.disabled_at IS NOT NULL AND OLD.disabled_at IS NULL) THEN
    PERFORM pg_notify('gatehouse_device_revoked', OLD.device_id);
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER gates_device_revoked AFTER UPDATE OR DELETE ON gates
  FOR EACH ROW EXECUTE FUNCTION gatehouse_gate_device_revoked();
