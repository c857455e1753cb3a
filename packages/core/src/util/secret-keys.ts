/**
 * Config keys whose values are secrets wherever they appear (shown as `***`). A registry user
 * name is half of a credential pair: masked like its password.
 */
export const SECRET_KEY = /(password|secret|tokens?|authorization|accesskey|secretkey|credentials?|username)$/i;
