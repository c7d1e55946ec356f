export { enroll, EnrollmentFailed, renew, renewIfDue, type EnrollOptions } from './enroll.js';
export {
  certificateMatchesKey,
  IDENTITY_FILE,
  identityPath,
  loadIdentity,
  NODE_NAME_PATTERN,
  renewalDue,
  saveIdentity,
  type NodeIdentity,
  type NodeNatsSettings,
} from './identity.js';
