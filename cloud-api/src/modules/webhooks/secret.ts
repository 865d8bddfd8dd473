/**
 * Webhook signing secrets: the Standard Webhooks form (`whsec_` and base64 of
 * 24 random bytes), stored sealed with the endpoint's id bound in as AAD
 * (rotate-keys re-seals them with the rest, orgs/personal-data.ts).
 */
import { randomBytes } from 'node:crypto';

export const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

export const secretAad = (endpointId: string) => `webhook_endpoints.secret:${endpointId}`;
