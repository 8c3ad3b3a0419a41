import { Token } from 'aws-cdk-lib';
import { ValidationError } from '../../validation';

/** Construct-side checks shared by the AWS constructs. Values that are unresolved tokens are never checked. */

export const ACCOUNT_ID = /^\d{12}$/;
// Any partition (aws, aws-cn, aws-us-gov, aws-iso-b, ...), optional path, role name per IAM's rules.
export const ROLE_ARN = /^arn:aws(?:-[a-z]+)*:iam::\d{12}:role(?:\/[!-.0-~]+)*\/[\w+=,.@-]{1,64}$/;

export const ROLE_ARN_RULE = 'IAM role ARNs like arn:aws:iam::123456789012:role/Name (not an sts assumed-role session ARN)';

/** Throws unless every resolved item matches `pattern`; '*' gets its own explanation. */
export function checkEach(prop: string, items: readonly string[], pattern: RegExp, rule: string, path: string): void {
  for (const item of items) {
    if (Token.isUnresolved(item)) continue;
    if (item.trim() === '*') {
      throw new ValidationError(prop, `must not contain '*', which would admit every AWS account; list ${rule}`, item, path);
    }
    if (!pattern.test(item)) throw new ValidationError(prop, `must contain only ${rule}`, item, path);
  }
}

/** Throws unless a resolved number is an integer within [min, max]. */
export function checkRange(prop: string, value: number | undefined, min: number, max: number, unit: string, path: string): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(prop, `must be a whole number of ${unit} between ${min} and ${max}`, value, path);
  }
}
