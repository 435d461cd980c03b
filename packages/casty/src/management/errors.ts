// Errors of the management endpoint.

import { CastyError, registerErrorClass } from '@casty/core';

/** The management endpoint could not listen where `clustered({ management })` asked (the node was shut down again). */
export class ManagementBindError extends CastyError {
  static readonly code = 'MANAGEMENT_BIND';
  constructor(readonly address: string, cause: Error) {
    super(ManagementBindError.code, `The management endpoint could not listen on ${address}: ${cause.message}; ` +
      'pick a free management.port (or 0 for any) and an address of this machine', { cause });
  }
}

registerErrorClass(ManagementBindError.code, ManagementBindError as unknown as new (...args: never[]) => CastyError);
