-- Every audited write to something an edge caches enqueues a change for the
-- sites it concerns, in the same transaction. Hanging it on the audit log
-- (which every admin write must append to) means no code path — the one-statement
-- pass issuance included — can change a pass, rule, zone, gate or site and
-- forget to tell the edges. Passes and rules concern every site of the org;
-- zones and gates their own site.
CREATE FUNCTION gatehouse_audit_to_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.entity_id IS NULL THEN
    RETURN NEW;
  ELSIF NEW.entity_type IN ('pass', 'access_rule') THEN
    INSERT INTO sync_changes (org_id, site_id, entity, entity_id)
      SELECT NEW.org_id, s.id, CASE NEW.entity_type WHEN 'pass' THEN 'pass' ELSE 'rule' END, NEW.entity_id::uuid
      FROM sites s WHERE s.org_id = NEW.org_id AND s.deleted_at IS NULL;
  ELSIF NEW.entity_type = 'site' THEN
    INSERT INTO sync_changes (org_id, site_id, entity, entity_id) VALUES (NEW.org_id, NEW.entity_id::uuid, 'site', NEW.entity_id::uuid);
  ELSIF NEW.entity_type = 'zone' THEN
    INSERT INTO sync_changes (org_id, site_id, entity, entity_id)
      SELECT NEW.org_id, z.site_id, 'zone', z.id FROM zones z WHERE z.id = NEW.entity_id::uuid;
  ELSIF NEW.entity_type = 'gate' THEN
    INSERT INTO sync_changes (org_id, site_id, entity, entity_id)
      SELECT NEW.org_id, g.site_id, 'gate', g.id FROM gates g WHERE g.id = NEW.entity_id::uuid;
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_logs_to_sync AFTER INSERT ON audit_logs
  FOR EACH ROW EXECUTE FUNCTION gatehouse_audit_to_sync();
