/** Bad input: names the file, the field path, the value and what was expected. Exit code 2. */
export class InputError extends Error {
  override name = 'InputError';
}
