/** Injection token of the ViewStore the query API reads from. */
export const VIEW_STORE = Symbol('VIEW_STORE');
