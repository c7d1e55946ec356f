export { BackgroundLoop, periodicLoop } from './background-loop.js';
export {
  COMMAND_STREAM,
  commandSubject,
  COMMANDS_PER_NODE,
  ensureStreams,
  EVENT_STREAM,
  EVENTS_PER_NODE_AND_KIND,
  eventSubject,
  eventSubjectPrefix,
  INGEST_CONSUMER,
  nodeDurable,
  STREAM_LIMITS,
} from './bus.js';
export { ConfigError, loadConfig, envBoolean, envPort, envUrl } from './config.js';
export { FAULT_POINTS, type FaultPoint } from './fault-points.js';
export { createLogger, REDACTED_PATHS, type Logger, type LoggerOptions } from './logger.js';
export {
  certificateCommonName,
  certificateRemainingMs,
  certificateValidity,
  createCertificateAuthority,
  createKeyAndCsr,
  CsrError,
  issueCertificate,
  newSerialNumber,
  signCsr,
  verifyClientCertificate,
  type IssueOptions,
  type PemPair,
  type VerifiedCertificate,
} from './pki.js';
export {
  TerminalError,
  WorkQueue,
  systemClock,
  type Reconcile,
  type WorkQueueClock,
  type WorkQueueOptions,
} from './work-queue.js';
