/**
 * A small checker for the subset of OpenAPI 3 schemas that LINE's webhook description
 * uses ($ref, allOf, discriminator, type, required, properties, items, enum, pattern,
 * length limits). It is here to prove that the test fixtures have LINE's real format.
 */
export interface OpenApiSchema {
  $ref?: string;
  allOf?: OpenApiSchema[];
  type?: string;
  required?: string[];
  properties?: Record<string, OpenApiSchema>;
  items?: OpenApiSchema;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  discriminator?: { propertyName: string; mapping?: Record<string, string> };
}

export interface OpenApiDocument {
  components: { schemas: Record<string, OpenApiSchema> };
}

export function schemaRef(doc: OpenApiDocument, ref: string): OpenApiSchema {
  const name = ref.replace('#/components/schemas/', '');
  const schema = doc.components.schemas[name];
  if (schema === undefined) throw new Error(`unknown schema ${ref}`);
  return schema;
}

/** Every way `value` departs from `schema`, as "path: problem" lines; empty when it conforms. */
export function checkAgainst(doc: OpenApiDocument, schema: OpenApiSchema, value: unknown, path = '$'): string[] {
  const problems: string[] = [];
  visit(doc, schema, value, path, true, problems);
  return problems;
}

function visit(doc: OpenApiDocument, schema: OpenApiSchema, value: unknown, path: string, dispatch: boolean, out: string[]): void {
  if (schema.$ref !== undefined) {
    visit(doc, schemaRef(doc, schema.$ref), value, path, dispatch, out);
    return;
  }
  // A schema with a discriminator stands for the schema its mapping names; that schema
  // includes this one again through allOf, where it must not dispatch a second time.
  if (dispatch && schema.discriminator?.mapping !== undefined && isObject(value)) {
    const target = schema.discriminator.mapping[String(value[schema.discriminator.propertyName])];
    if (target !== undefined) {
      visit(doc, schemaRef(doc, target), value, path, true, out);
      return;
    }
  }
  for (const part of schema.allOf ?? []) visit(doc, part, value, path, false, out);
  if (schema.type !== undefined && !hasType(value, schema.type)) {
    out.push(`${path}: expected ${schema.type}, got ${JSON.stringify(value)}`);
    return;
  }
  if (schema.enum !== undefined && !schema.enum.includes(value)) out.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (typeof value === 'string') {
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) out.push(`${path}: does not match ${schema.pattern}`);
    if (schema.minLength !== undefined && value.length < schema.minLength) out.push(`${path}: shorter than ${schema.minLength}`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) out.push(`${path}: longer than ${schema.maxLength}`);
  }
  if (isObject(value)) {
    for (const key of schema.required ?? []) if (!(key in value)) out.push(`${path}: missing required ${key}`);
    for (const [key, sub] of Object.entries(schema.properties ?? {})) {
      if (key in value) visit(doc, sub, value[key], `${path}.${key}`, true, out);
    }
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems) out.push(`${path}: more than ${schema.maxItems} items`);
    if (schema.items !== undefined) value.forEach((item, i) => visit(doc, schema.items!, item, `${path}[${i}]`, true, out));
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    default:
      return typeof value === type;
  }
}
