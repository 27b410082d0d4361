/**
 * The one mapping from a route schema's failure (Fastify's `err.validation`, Ajv errors) to our
 * `PF_ERR_VALIDATION`: the field is the first error's missing property or its path, and the
 * message names the field and the rule.
 */
import type { FastifySchemaValidationError } from 'fastify';
import { PayFluxError } from '../errors.js';

/** `fallback` names the field when the error has no path (the whole body or query is wrong). */
export function validationError(err: { readonly validation?: unknown }, fallback = 'body'): PayFluxError {
  const e = (err.validation as readonly FastifySchemaValidationError[] | undefined)?.[0];
  if (e === undefined) return new PayFluxError('PF_ERR_VALIDATION', `${fallback} is invalid`, { field: fallback });
  const missing = (e.params as { missingProperty?: unknown }).missingProperty;
  const field =
    typeof missing === 'string'
      ? missing
      : e.instancePath
          .split('/')
          .filter((p) => p !== '')
          .join('.') || fallback;
  const message =
    typeof missing === 'string'
      ? `${field} is required`
      : e.keyword === 'enum'
        ? `${field} must be one of ${((e.params as { allowedValues?: unknown[] }).allowedValues ?? []).join(', ')}`
        : `${field} ${e.message ?? 'is invalid'}`;
  return new PayFluxError('PF_ERR_VALIDATION', message, { field });
}
