import { validateName } from '@pressluft/domain';
import type { Logger } from '@pressluft/platform';
import { PressluftError } from '../common/errors.js';
import type { CallerInfo, EnrollmentService } from '../enrollment/enrollment.service.js';

/** A NodeService call that hands an agent a secret: what it asks for, by name (logged, never a secret). */
export interface NodeSecretCall<T> {
  /** The gRPC method (for the authentication's message). */
  readonly method: string;
  /** The request's names (each must be a resource name; all logged). */
  readonly names: Readonly<Record<string, string>>;
  /** The answer for the authenticated node; a PressluftError refuses. */
  answer(node: string): Promise<T>;
  /** The log line of an answer (what was handed to whom, never the value). */
  handed(node: string): string;
}

/**
 * One way every NodeService secret call runs: the caller's client certificate names its node, the
 * request's names are checked, and one log line says what was handed over or why not (a refusal
 * as a warning), never with the secret.
 */
export async function answerNodeSecretCall<T>(
  enrollment: EnrollmentService,
  logger: Logger,
  peerCertificate: Uint8Array | undefined,
  caller: CallerInfo,
  call: NodeSecretCall<T>,
): Promise<T> {
  let node: string | undefined;
  const names = Object.fromEntries(Object.entries(call.names).map(([field, value]) => [field, value.slice(0, 64)]));
  try {
    node = await enrollment.authenticateNode(peerCertificate, call.method);
    for (const [field, value] of Object.entries(call.names)) {
      if (validateName(value, field)) throw new PressluftError('Invalid', `the request is invalid: ${field}: must be a resource name`, [{ field, message: 'must be a resource name' }]);
    }
    const response = await call.answer(node);
    logger.info({ node, ...names, peer: caller.peer }, call.handed(node));
    return response;
  } catch (error) {
    if (error instanceof PressluftError) logger.warn({ node, ...names, peer: caller.peer, reason: error.reason }, `${call.method} refused: ${error.message}`);
    throw error;
  }
}
