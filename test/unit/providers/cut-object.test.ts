import { fieldsOfCutObject } from '../../../src/providers/cut-object';

/** The top-level fields of a JSON object cut short (an answer read up to 64 KiB): what was read whole, nothing guessed. */
describe('fieldsOfCutObject', () => {
  it('gives the scalar fields read whole before the cut', () => {
    expect({ ...fieldsOfCutObject('{"success": false, "code": -12.5e1, "none": null, "text": "a \\"quoted\\" \\u4e2d", "de') }).toEqual({
      success: false,
      code: -125,
      none: null,
      text: 'a "quoted" 中',
    });
  });

  it('leaves out objects and arrays (their strings may hold braces), and what the cut went through', () => {
    expect({ ...fieldsOfCutObject('{"inner": {"success": false, "s": "}]"}, "list": [1, {"a": "["}], "ok": true, "cut": "abc') }).toEqual({ ok: true });
    expect({ ...fieldsOfCutObject('{"ok": true, "inner": {"success": false, "more": "x') }).toEqual({ ok: true });
    // A literal or a number at the cut may be the start of a longer one.
    expect({ ...fieldsOfCutObject('{"ok": true, "success": fal') }).toEqual({ ok: true });
    expect({ ...fieldsOfCutObject('{"ok": true, "status": 40') }).toEqual({ ok: true });
    expect({ ...fieldsOfCutObject('{"ok": true, "rate": 1.') }).toEqual({ ok: true });
    expect({ ...fieldsOfCutObject('{"ok": true, "rate": 1e') }).toEqual({ ok: true });
    expect({ ...fieldsOfCutObject('{"ok": true, "rate": -2.5E+') }).toEqual({ ok: true });
    expect({ ...fieldsOfCutObject('{"ok": true, "succ') }).toEqual({ ok: true });
  });

  it('takes a field named __proto__ as a field, not as the prototype', () => {
    const fields = fieldsOfCutObject('{"__proto__": "x", "success": false, "pad": "');
    expect(Object.getPrototypeOf(fields)).toBeNull();
    expect(fields?.['__proto__']).toBe('x');
    expect(fields?.success).toBe(false);
  });

  it('is undefined for a text that does not start as a JSON object, or goes wrong before the cut', () => {
    expect(fieldsOfCutObject('<html><body>{"success": false')).toBeUndefined();
    expect(fieldsOfCutObject('[{"success": false}, "')).toBeUndefined();
    expect(fieldsOfCutObject('{"success": nope, "pad": "')).toBeUndefined();
    expect(fieldsOfCutObject('{"success" false, "pad": "')).toBeUndefined();
    expect(fieldsOfCutObject('{"a": 1 "b": 2, "pad": "')).toBeUndefined();
    // A field name JSON.parse refuses (a bad escape, a raw control character): not JSON either, and no throw.
    expect(fieldsOfCutObject('{"success": false, "b\\q": 2, "pad": "')).toBeUndefined();
    expect(fieldsOfCutObject('{"a\nb": 1, "pad": "')).toBeUndefined();
  });
});
