/**
 * The sandbox notes and the links into the API reference. Simulating a scan
 * needs the sandbox organisation's ids and a key: the console user works in
 * their own organisation, not the sandbox one, so the page shows the requests
 * to make with one of the application's keys instead of making them itself.
 */
import { useTranslation } from 'react-i18next';
import type { App } from './types.ts';
import { DOC_GROUPS } from './types.ts';

export function SandboxPanel({ app }: { app: App }) {
  const { t } = useTranslation('devconsole');
  if (!app.sandbox) return <p className="muted">{t('sandbox.notSandbox')}</p>;
  const origin = window.location.origin;
  const auth = '-H "Authorization: Bearer $GATEHOUSE_KEY"';
  const lookups = [
    `curl -s ${auth} ${origin}/api/admin/gates`,
    `curl -s ${auth} ${origin}/api/admin/access-rules`,
    `curl -s ${auth} ${origin}/api/admin/visitors`,
  ].join('\n');
  const issue = `curl -s ${auth} -H "Content-Type: application/json" \\
  -d '{"visitorId":"<visitor id>","accessRuleId":"<rule id>","type":"single","validFrom":"<now, ISO 8601>","validTo":"<later, ISO 8601>"}' \\
  ${origin}/api/admin/passes`;
  const scan = `curl -s ${auth} -H "Content-Type: application/json" \\
  -d '{"passId":"<pass id>","gateId":"<gate id>","direction":"in"}' \\
  ${origin}/api/admin/sandbox/scan`;
  return (
    <>
      <p>{t('sandbox.intro')}</p>
      <p>{t('sandbox.how')}</p>
      <p className="muted">{t('sandbox.keyNote')}</p>
      <h3>{t('sandbox.step1')}</h3>
      <pre className="dev-code" data-snippet="lookups">
        {lookups}
      </pre>
      <h3>{t('sandbox.step2')}</h3>
      <pre className="dev-code" data-snippet="issue">
        {issue}
      </pre>
      <h3>{t('sandbox.step3')}</h3>
      <pre className="dev-code" data-snippet="scan">
        {scan}
      </pre>
    </>
  );
}

export function DocsPanel() {
  const { t } = useTranslation('devconsole');
  return (
    <>
      <p>{t('docs.intro')}</p>
      <p>
        <a href="/docs" target="_blank" rel="noreferrer">
          {t('docs.all')}
        </a>
      </p>
      <ul>
        {DOC_GROUPS.map((g) => (
          <li key={g}>
            {/* Swagger UI opens the tag's section from the fragment. */}
            <a href={`/docs#/${g}`} target="_blank" rel="noreferrer">
              {t('docs.group', { group: t(`docs.groups.${g}`) })}
            </a>
          </li>
        ))}
      </ul>
    </>
  );
}
