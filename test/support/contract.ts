/**
 * The phone API's published contract (GET /api/mobile/openapi.json) as a check on real
 * responses: every answer a test gets from /api/mobile must be a status the document lists
 * for that operation, with a body its JSON Schema (2020-12, through ajv) accepts — errors
 * included, whose `error` must be one of the codes documented for that status.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

interface OperationDoc {
  responses: Partial<Record<string, { content?: Record<string, { schema: object }> }>>;
}
export interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, OperationDoc>>;
  components: { schemas: Record<string, object> };
}

export class ContractViolation extends Error {}

export interface Contract {
  doc: OpenApiDoc;
  /** Throws ContractViolation unless `status` and `body` are what the document says for `method url`. */
  check(method: string, url: string, status: number, body: unknown): void;
  /** Every (method, path template) a check has seen, for coverage assertions. */
  seen: Set<string>;
}

const contracts = new Map<string, Promise<Contract>>();

/** The contract a provider publishes, fetched and compiled once per issuer. */
export function phoneContract(issuer: string): Promise<Contract> {
  let c = contracts.get(issuer);
  if (!c) {
    c = fetch(`${issuer}/api/mobile/openapi.json`).then(async (res) => {
      if (res.status !== 200) throw new Error(`openapi.json answered ${res.status}`);
      return compile((await res.json()) as OpenApiDoc);
    });
    contracts.set(issuer, c);
  }
  return c;
}

export function compile(doc: OpenApiDoc): Contract {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema({ $id: 'openapi', components: doc.components }, 'openapi');
  const templates = Object.keys(doc.paths).map((template) => ({
    template,
    // Literal segments before parameters: /scans/{qrId}/confirm/options must not match /scans/{qrId}.
    regex: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
  }));
  const validators = new Map<string, ValidateFunction>();
  const seen = new Set<string>();

  function validatorFor(key: string, schema: object): ValidateFunction {
    let v = validators.get(key);
    if (!v) {
      // Local refs (#/components/...) resolve against the whole document.
      const rebased = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/'));
      v = ajv.compile(rebased);
      validators.set(key, v);
    }
    return v;
  }

  return {
    doc,
    seen,
    check(method, url, status, body) {
      const path = new URL(url, 'http://x').pathname;
      const m = method.toLowerCase();
      const found = templates.find((t) => t.regex.test(path) && doc.paths[t.template][m]);
      if (!found) throw new ContractViolation(`${method} ${path} is not in the phone API document`);
      seen.add(`${m} ${found.template}`);
      const op = doc.paths[found.template][m];
      const response = op.responses[String(status)];
      if (!response)
        throw new ContractViolation(
          `${method} ${found.template} answered ${status}, which the document does not list (${Object.keys(op.responses).join(', ')})`,
        );
      const schema = response.content?.['application/json']?.schema;
      if (!schema) {
        if (body !== undefined && body !== '' && status !== 204)
          throw new ContractViolation(`${method} ${found.template} ${status} has no documented body but answered ${JSON.stringify(body).slice(0, 200)}`);
        return;
      }
      const validate = validatorFor(`${m} ${found.template} ${status}`, schema);
      if (!validate(body)) {
        throw new ContractViolation(`${method} ${found.template} ${status}: ${ajv.errorsText(validate.errors)}\n  body: ${JSON.stringify(body).slice(0, 400)}`);
      }
    },
  };
}

/**
 * fetch for /api/mobile that checks every answer against the contract. The Response is
 * returned with its body still readable (a clone was checked). `send` is how (e.g. a
 * TestBrowser's fetch, with its cookies).
 */
export async function contractFetch(
  issuer: string,
  input: string,
  init: RequestInit = {},
  send: (input: string, init: RequestInit) => Promise<Response> = fetch,
): Promise<Response> {
  const [contract, res] = await Promise.all([phoneContract(issuer), send(input, init)]);
  const text = await res.clone().text();
  let body: unknown = text === '' ? undefined : text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: the check says so
  }
  contract.check(init.method ?? 'GET', input, res.status, body);
  return res;
}
