/**
 * One caller per provider account among the instances that share a PostgreSQL store: the
 * instance holding the account's caller lock (a session advisory lock on the instance's
 * session connection) is the only one that calls it, so its rate gate sees every call the
 * account's bucket takes. The lock goes with the session: a lost session loses every role.
 */
export interface CallerRoles {
  /**
   * Contends for the account's role: tries now, and again every ~0.5 s while another instance holds
   * it. With several accounts the roles spread over the instances (PostgreSQL: caller-roles.ts):
   * a free one is taken while this instance holds fewer than its share, and one may be given up.
   */
  want(account: string): void;
  /** Whether this instance holds the account's role now. */
  holds(account: string): boolean;
  /** Called when this instance takes (true) or loses (false) an account's role — lost with the session, or given up to another instance. Returns an unsubscribe function. */
  onChange(listener: (account: string, held: boolean) => void): () => void;
  /** Gives every role up at once and contends no more until asked again (stopping): another instance takes them over. */
  releaseAll(): Promise<void>;
}
