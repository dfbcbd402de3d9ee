// A refusal with one of the protocol's stable codes, naming what was refused.
import { FusejailError } from '../errors.js';

export class Refused extends FusejailError {
  constructor(code: 'EPERM' | 'EINVAL' | 'ENOENT' | 'EBUSY' | 'ENODEV' | 'ENOTDIR' | 'ENOTEMPTY' | 'ENOTCONN', message: string) {
    super(code, message);
  }
}
