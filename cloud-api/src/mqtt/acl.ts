/**
 * Who may touch which topic (SPEC TOPIC-4). One rule, enforced twice: by the
 * embedded broker's authorize hooks and, for Mosquitto, by the roles of its
 * dynamic-security plugin generated from the same constants.
 */
import { parseTopic, TOPIC_ROOT } from '@gatehouse/protocol';

export type BrokerIdentity = { kind: 'cloud' } | { kind: 'device'; deviceId: string };

/** A device publishes only its own up/* topics. */
export function canPublish(who: BrokerIdentity, topic: string): boolean {
  if (who.kind === 'cloud') return topic.startsWith(`${TOPIC_ROOT}/`);
  const t = parseTopic(topic);
  return t !== null && t.direction === 'up' && t.deviceId === who.deviceId;
}

/** A device subscribes only to its own down/* topics, literally or with one trailing wildcard. */
export function canSubscribe(who: BrokerIdentity, filter: string): boolean {
  if (who.kind === 'cloud') {
    const plain = filter.startsWith('$share/') ? filter.split('/').slice(2).join('/') : filter;
    return plain.startsWith(`${TOPIC_ROOT}/`);
  }
  const prefix = `${TOPIC_ROOT}/dev/${who.deviceId}/down/`;
  if (filter === `${prefix}+` || filter === `${prefix}#`) return true;
  const t = parseTopic(filter);
  return t !== null && t.direction === 'down' && t.deviceId === who.deviceId;
}

/** An ACL entry of Mosquitto's dynamic-security plugin. */
export interface DynsecAcl {
  acltype: 'publishClientSend' | 'publishClientReceive' | 'subscribePattern' | 'subscribeLiteral' | 'unsubscribePattern';
  topic: string;
  allow: boolean;
}

/** Where the plugin takes commands (and answers on `…/response`). */
export const DYNSEC_CONTROL_TOPIC = '$CONTROL/dynamic-security/v1';

/** What a device id may look like: it is a broker username, a client id and a topic level. */
export const DEVICE_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** Each device gets a role of its own (Mosquitto 2.0's plugin has no %u in ACLs). */
export function deviceRoleName(deviceId: string): string {
  return `gatehouse-device-${deviceId}`;
}

/**
 * The same rule in the dynamic-security plugin's terms, for one device: it
 * publishes only its own up/ topics and reads only its own down/ topics
 * (the literal `down/#` too, as canSubscribe allows it). Everything else is
 * denied by the default ACL access of the generated configuration.
 */
export function dynsecDeviceAcls(deviceId: string): DynsecAcl[] {
  if (!DEVICE_ID_RE.test(deviceId)) throw new Error(`unusable device id ${JSON.stringify(deviceId)}`);
  const dev = `${TOPIC_ROOT}/dev/${deviceId}`;
  return [
    { acltype: 'publishClientSend', topic: `${dev}/up/+`, allow: true },
    { acltype: 'publishClientReceive', topic: `${dev}/down/+`, allow: true },
    { acltype: 'subscribePattern', topic: `${dev}/down/+`, allow: true },
    { acltype: 'subscribeLiteral', topic: `${dev}/down/#`, allow: true },
  ];
}

/**
 * The cloud: every Gatehouse topic, shared subscriptions included (the 2.0
 * plugin checks a `$share/group/…` filter as written), and the plugin's
 * control topic, through which it creates, disables and deletes devices.
 */
export function dynsecCloudAcls(): DynsecAcl[] {
  const control = '$CONTROL/dynamic-security/#';
  return [
    { acltype: 'publishClientSend', topic: `${TOPIC_ROOT}/#`, allow: true },
    { acltype: 'publishClientReceive', topic: `${TOPIC_ROOT}/#`, allow: true },
    { acltype: 'subscribePattern', topic: `${TOPIC_ROOT}/#`, allow: true },
    { acltype: 'subscribePattern', topic: `$share/+/${TOPIC_ROOT}/#`, allow: true },
    { acltype: 'publishClientSend', topic: control, allow: true },
    { acltype: 'publishClientReceive', topic: control, allow: true },
    { acltype: 'subscribePattern', topic: control, allow: true },
  ];
}
