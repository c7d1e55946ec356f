export * from './gen/pressluft/agent/v1/agent.js';
// Named: both generated files export protobufPackage and the helper types.
export {
  EnrollmentServiceClient,
  EnrollmentServiceService,
  EnrollRequest,
  EnrollResponse,
  NatsSettings,
  RenewRequest,
  RenewResponse,
  type EnrollmentServiceServer,
} from './gen/pressluft/agent/v1/enrollment.js';
export {
  BackupStoreAccessRequest,
  BackupStoreAccessResponse,
  NodeServiceClient,
  NodeServiceService,
  SiteSecretAccessRequest,
  SiteSecretAccessResponse,
  type NodeServiceServer,
} from './gen/pressluft/agent/v1/node.js';
