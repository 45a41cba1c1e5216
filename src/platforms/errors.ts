/**
 * The body is not a webhook of the platform it was sent to (not JSON, or not the
 * top-level shape). The HTTP layer answers 400 with `detail`; matched by `instanceof`.
 */
export class WebhookBodyError extends Error {
  override readonly name = 'WebhookBodyError';

  constructor(readonly detail: string) {
    super(`not a webhook: ${detail}`);
  }
}
