/**
 * What the end-to-end tests share: waiting and free ports. An edge enrolled to
 * a gate as a controller would be is `enrolledEdge` of `@gatehouse/edge-agent/testing`.
 */
import { createServer } from 'node:net';

// One wait for every test: the cloud's test helpers hold it.
export { until } from '@gatehouse/cloud-api/testing';

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}
