/**
 * The tunnel: keeps the receiver reachable from the internet through a localtunnel relay (or an external URL
 * the user runs), proves it by probing itself, and says so when it is not.
 */
export {
  createTunnelSupervisor,
  normalizeTunnelConfig,
  storedTunnelConfig,
  DEFAULT_TUNNEL_HOST,
  TUNNEL_SETTINGS,
  TUNNEL_DOWN_RULE,
  TUNNEL_URL_CHANGED_RULE,
} from './supervisor'
export type { TunnelConfig, TunnelDeps, TunnelSupervisor, TunnelLogLevel } from './supervisor'
export { PROBE_PATH_PREFIX } from './probe'
export { RegistrationRefusedError } from './registration'
export type { AlertSink, AlertInput } from '../monitor/alert-sink'
