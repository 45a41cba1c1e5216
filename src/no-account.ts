/**
 * The account of an operation for which none could be found (the rule names none, its
 * channel has none for the provider, and the environment's is not configured): kept as
 * a dead letter, and given an account at the first start where one exists. In a module
 * of its own so that the command line can name it without loading the provider list.
 */
export const NO_ACCOUNT = '';
