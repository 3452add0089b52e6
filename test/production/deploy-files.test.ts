/**
 * The container files (Dockerfile, .dockerignore, compose.yaml, deploy/caddy, deploy/kubernetes)
 * checked against the code, since no container engine runs here: every variable they set is
 * one the provider reads (configSchema) or a documented one of another program; ports agree
 * with PORT; every probe path is served by a real provider; every program they run is one
 * `npm run build` produces; what the image build copies is in the build context.
 * scripts/prod-layout.sh then runs the Dockerfile's runtime stage for real.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { configSchema } from '../../provider/src/config.js';
import { useProvider } from '../support/harness.js';

const CONFIG_KEYS = new Set(Object.keys(configSchema.shape));
const read = (file: string) => fs.readFileSync(file, 'utf8');
const README = read('README.md');
const PRODUCTION_SECTION = README.slice(README.indexOf('\n## Production'), README.indexOf('\n## ', README.indexOf('\n## Production') + 5));

// ── the Dockerfile ────────────────────────────────────────────────────────────────────────────

interface Stage {
  from: string;
  name?: string;
  lines: { op: string; args: string }[];
}
function dockerfileStages(text: string): Stage[] {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, op, args] = /^(\w+)\s+(.*)$/.exec(line)!;
    if (op.toUpperCase() === 'FROM') {
      const [, from, name] = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(args)!;
      stages.push({ from, name, lines: [] });
    } else stages.at(-1)!.lines.push({ op: op.toUpperCase(), args });
  }
  return stages;
}
const DOCKERFILE = dockerfileStages(read('Dockerfile'));
const RUNTIME = DOCKERFILE.at(-1)!;
const instruction = (stage: Stage, op: string) => stage.lines.filter((l) => l.op === op).map((l) => l.args);
const execForm = (args: string) => JSON.parse(args.slice(args.indexOf('['))) as string[];
const RUNTIME_ENV = Object.fromEntries(
  instruction(RUNTIME, 'ENV')
    .flatMap((a) => a.split(/\s+/))
    .map((kv) => kv.split('=') as [string, string]),
);
/** Variables the Dockerfile may set that are not the provider's own. */
const IMAGE_ONLY_ENV: Record<string, string> = { NODE_ENV: 'Node/Express convention; production: no stack traces in default error pages' };

/** dist/provider/src/x/y.js → provider/src/x/y.ts, if tsconfig.build.json compiles it. */
function sourceOfBuilt(file: string): string | null {
  const build = JSON.parse(read('tsconfig.build.json').replace(/^\s*\/\/.*$/gm, '')) as {
    compilerOptions: { outDir: string; rootDir: string };
    include: string[];
    exclude: string[];
  };
  const rel = path.relative(build.compilerOptions.outDir, file);
  if (rel.startsWith('..') || !rel.endsWith('.js')) return null;
  const source = path.join(build.compilerOptions.rootDir, rel.replace(/\.js$/, '.ts'));
  const included = build.include.some((dir) => source.startsWith(`${dir}/`)) && !build.exclude.some((glob) => path.matchesGlob(source, glob));
  return included && fs.existsSync(source) ? source : null;
}

/** A .dockerignore pattern as Go's filepath.Match reads it, plus `**` (and, unlike shells, `*` matches dotfiles). */
function dockerPattern(pattern: string): RegExp {
  const body = pattern
    .split(/(\*\*\/?|\*|\?)/)
    .map((part) =>
      part.startsWith('**')
        ? '(?:.*/)?' + (part.endsWith('/') ? '' : '.*')
        : part === '*'
          ? '[^/]*'
          : part === '?'
            ? '[^/]'
            : part.replace(/[.+^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${body}$`);
}

/** Docker's .dockerignore: patterns in order, the last match wins, a match on a parent directory counts. */
function dockerIgnored(file: string): boolean {
  const rules = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const ancestors = file.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const rule of rules) {
    const negated = rule.startsWith('!');
    const pattern = rule.replace(/^!/, '').replace(/\/+$/, '');
    if (ancestors.some((p) => dockerPattern(pattern).test(p))) ignored = !negated;
  }
  return ignored;
}

// ── compose.yaml, Caddyfile, Kubernetes ──────────────────────────────────────────────────────

const COMPOSE = parse(read('compose.yaml'), { merge: true }) as {
  services: Record<
    string,
    {
      image?: string;
      build?: unknown;
      environment?: Record<string, string>;
      command?: string[];
      depends_on?: Record<string, { condition: string }>;
      read_only?: boolean;
      volumes?: string[];
      ports?: string[];
    }
  >;
};
const SAOMA_SERVICES = Object.entries(COMPOSE.services).filter(([, s]) => s.build && !s.command);
/** Variables set on the other services of compose.yaml: whose they are. */
const OTHER_PROGRAMS_ENV: Record<string, string[]> = { postgres: ['POSTGRES_USER', 'POSTGRES_PASSWORD', 'POSTGRES_DB'], caddy: ['SAOMA_DOMAIN'], redis: [] };
const CADDYFILE = read('deploy/caddy/Caddyfile');

type K8sObject = { kind: string; metadata: { name: string; labels?: Record<string, string> }; [k: string]: any };
const K8S_DIR = 'deploy/kubernetes';
const K8S: K8sObject[] = fs
  .readdirSync(K8S_DIR)
  .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
  .flatMap((f) => parseAllDocuments(read(path.join(K8S_DIR, f))).map((d) => d.toJS() as K8sObject));
const k8s = (kind: string) => {
  const found = K8S.filter((o) => o.kind === kind);
  expect(found, `${kind} in ${K8S_DIR}`).toHaveLength(1);
  return found[0];
};

/** Every HTTP path the files probe, and who asks (requested from a running provider at the end). */
const PROBES: [string, string | undefined][] = [
  ['Dockerfile HEALTHCHECK', execForm(instruction(RUNTIME, 'HEALTHCHECK')[0] ?? '[]')[2]],
  ['Caddyfile health_uri', /health_uri\s+(\S+)/.exec(CADDYFILE)?.[1]],
  ...['startupProbe', 'readinessProbe', 'livenessProbe'].map((p): [string, string | undefined] => [
    `Kubernetes ${p}`,
    K8S.find((o) => o.kind === 'Deployment')?.spec.template.spec.containers[0][p]?.httpGet?.path,
  ]),
];

describe('Dockerfile', () => {
  it('builds in stages into a node:24-slim runtime matching the pinned Node, as a non-root user', () => {
    expect(DOCKERFILE.length).toBeGreaterThanOrEqual(2);
    expect(RUNTIME.from).toBe('node:24-slim');
    const pinned = (JSON.parse(read('package.json')) as { dependencies: Record<string, string> }).dependencies.node;
    expect(pinned, 'the node@ dependency and the image agree on the major version').toMatch(/^\^?24\./);
    expect(instruction(RUNTIME, 'USER')).toEqual(['node']);
  });

  it('sets only variables the provider reads (or documented others), and EXPOSEs its PORT', () => {
    for (const name of Object.keys(RUNTIME_ENV)) expect(CONFIG_KEYS.has(name) || name in IMAGE_ONLY_ENV, `Dockerfile ENV ${name}`).toBe(true);
    expect(instruction(RUNTIME, 'EXPOSE')).toEqual([RUNTIME_ENV.PORT]);
    expect(RUNTIME_ENV.HOST, 'reachable from outside the container').toBe('0.0.0.0');
    expect(instruction(RUNTIME, 'VOLUME').join(' ')).toContain(RUNTIME_ENV.DATA_DIR);
  });

  it('CMD and HEALTHCHECK run node on files npm run build produces; the HEALTHCHECK asks /healthz', () => {
    const cmd = execForm(instruction(RUNTIME, 'CMD')[0]);
    const health = execForm(instruction(RUNTIME, 'HEALTHCHECK')[0]);
    expect(cmd[0]).toBe('node');
    expect(sourceOfBuilt(cmd[1]), cmd[1]).toBe('provider/src/main.ts');
    expect(health[0]).toBe('node');
    expect(sourceOfBuilt(health[1]), health[1]).toBe('provider/src/ops/healthcheck.ts');
    expect(health[2]).toBe('/healthz');
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['start:prod'], 'npm run start:prod runs what the image runs').toBe(`exec ${cmd.join(' ')}`);
  });

  it('copies into the build stage everything the build needs, and .dockerignore lets it in', () => {
    const build = DOCKERFILE[0];
    const sources = instruction(build, 'COPY')
      .filter((a) => !a.startsWith('--from'))
      .flatMap((a) => a.split(/\s+/).slice(0, -1));
    for (const source of sources) {
      expect(fs.existsSync(source), `COPY ${source}`).toBe(true);
      expect(dockerIgnored(source), `.dockerignore excludes COPY ${source}`).toBe(false);
    }
    const copied = (file: string) => sources.some((s) => file === s || file.startsWith(`${s.replace(/\/$/, '')}/`));
    // What tsc and scripts/build.mjs read: the sources, the public files, the migrations, the configs.
    const needed = execFileSync('git', ['ls-files', 'provider', 'prisma'], { encoding: 'utf8' })
      .split('\n')
      .filter((f) => f && !f.endsWith('.test.ts'));
    needed.push('tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs', 'prisma.config.ts', 'package.json', 'package-lock.json');
    // And the script `npm run db:generate` runs (the build stage generates the client with it).
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    needed.push(...(scripts['db:generate'].match(/scripts\/[\w.-]+/g) ?? []));
    for (const file of needed) {
      expect(copied(file), `the build stage does not COPY ${file}`).toBe(true);
      expect(dockerIgnored(file), `.dockerignore excludes ${file}`).toBe(false);
    }
    for (const kept of ['node_modules/x', '.saoma/keys.json', '.env', 'dist/x.js', 'provider/src/storage/generated/client.ts', 'provider/src/config.test.ts']) {
      expect(dockerIgnored(kept), `.dockerignore lets in ${kept}`).toBe(true);
    }
  });

  it('installs production dependencies (no optional ones: the Prisma CLI) without install scripts, and none of those is needed at run time', () => {
    const deps = DOCKERFILE.find((s) => s.name === 'deps')!;
    expect(instruction(deps, 'RUN').join(' ')).toMatch(/npm ci --omit=dev --omit=optional --ignore-scripts/);
    // Packages whose install scripts the image skips, and why that is fine. A new one fails here.
    const skipped: Record<string, string> = {
      node: 'downloads a Node binary; the image has its own Node 24',
      prisma: 'CLI engine downloads (off anyway: see PRISMA.md); the client is compiled into dist/',
      'prisma6/node_modules/@prisma/engines': 'same, for the migrate CLI',
      '@prisma/engines': 'same',
      esbuild: "tsx's compiler: start:prod does not load tsx",
      prisma6: 'the migrate CLI, not used at run time',
    };
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { hasInstallScript?: boolean; dev?: boolean }> };
    const withScripts = Object.entries(lock.packages)
      .filter(([name, p]) => name && p.hasInstallScript && !p.dev)
      .map(([name]) => name.replace(/^node_modules\//, ''));
    for (const name of withScripts) expect(skipped[name], `production dependency ${name} has an install script the image skips`).toBeDefined();
  });
});

describe('compose.yaml and the Caddyfile', () => {
  it('runs two provider instances, each setting only provider variables, the key material shared', () => {
    expect(SAOMA_SERVICES.map(([name]) => name)).toEqual(['saoma-1', 'saoma-2']);
    const envs = SAOMA_SERVICES.map(([, s]) => s.environment!);
    for (const [name, s] of SAOMA_SERVICES) {
      for (const key of Object.keys(s.environment!)) expect(CONFIG_KEYS.has(key), `${name}: ${key} is not a provider setting`).toBe(true);
      expect(s.read_only, `${name}: read-only root filesystem`).toBe(true);
      expect(
        s.volumes?.some((v) => v.endsWith(`:${RUNTIME_ENV.DATA_DIR}`)),
        `${name}: a writable volume on DATA_DIR`,
      ).toBe(true);
    }
    for (const key of ['JWKS', 'COOKIE_KEYS', 'IDENTIFIER_SECRET', 'DATABASE_URL', 'REDIS_URL', 'PUBLIC_URL']) {
      expect(envs[0][key], key).toBeTruthy();
      expect(envs[1][key], `${key} is the same on both instances`).toBe(envs[0][key]);
    }
    expect(envs[0].TRUST_PROXY).toBe('1');
    expect(envs[0].PUBLIC_URL).toMatch(/^https:\/\//);
  });

  it('migrates first: a one-shot service runs the compiled migrator and the instances wait for it', () => {
    const [name, migrate] = Object.entries(COMPOSE.services).find(([, s]) => s.command?.includes('dist/provider/src/ops/migrate.js'))!;
    expect(sourceOfBuilt(migrate.command![1])).toBe('provider/src/ops/migrate.ts');
    for (const key of Object.keys(migrate.environment!)) expect(CONFIG_KEYS.has(key), key).toBe(true);
    for (const [service, s] of SAOMA_SERVICES) {
      expect(s.environment!.MIGRATE_ON_START, service).toBe('0');
      expect(s.depends_on?.[name]?.condition, service).toBe('service_completed_successfully');
    }
  });

  it('the other services set only their own documented variables; every ${VAR} is explained in the README', () => {
    for (const [name, s] of Object.entries(COMPOSE.services)) {
      if (SAOMA_SERVICES.some(([n]) => n === name) || s.command?.[0] === 'node') continue;
      for (const key of Object.keys(s.environment ?? {})) expect(OTHER_PROGRAMS_ENV[name], `${name}: ${key}`).toContain(key);
    }
    const interpolated = new Set([...read('compose.yaml').matchAll(/\$\{(\w+)/g)].map((m) => m[1]));
    expect([...interpolated].sort()).toEqual(['COOKIE_KEYS', 'IDENTIFIER_SECRET', 'JWKS', 'POSTGRES_PASSWORD', 'SAOMA_DOMAIN']);
    for (const name of interpolated) expect(PRODUCTION_SECTION, `README "Production" explains ${name}`).toContain(name);
  });

  it('Caddy proxies to both instances on their PORT and checks /readyz', () => {
    const upstreams = /reverse_proxy\s+([^{]+)\{/.exec(CADDYFILE)![1].trim().split(/\s+/);
    const port = (SAOMA_SERVICES[0][1].environment!.PORT as string | undefined) ?? RUNTIME_ENV.PORT;
    expect(upstreams).toEqual(SAOMA_SERVICES.map(([name]) => `${name}:${port}`));
    const healthUri = /health_uri\s+(\S+)/.exec(CADDYFILE)![1];
    expect(healthUri).toBe('/readyz');
    const caddy = COMPOSE.services.caddy;
    const mounted = caddy.volumes!.find((v) => v.endsWith(':/etc/caddy/Caddyfile:ro'))!.split(':')[0];
    expect(path.resolve(mounted)).toBe(path.resolve('deploy/caddy/Caddyfile'));
    expect(CADDYFILE).toContain('{$SAOMA_DOMAIN}');
  });
});

describe('deploy/kubernetes', () => {
  const configMap = () => k8s('ConfigMap').data as Record<string, string>;
  const deployment = () => k8s('Deployment');
  const container = () => deployment().spec.template.spec.containers[0];

  it('has the Deployment, Service, ConfigMap, Secret (example), PodDisruptionBudget and migration Job; the kustomization lists real files', () => {
    for (const kind of ['Deployment', 'Service', 'ConfigMap', 'Secret', 'PodDisruptionBudget', 'Job']) k8s(kind);
    const kustomization = parse(read(path.join(K8S_DIR, 'kustomization.yaml'))) as { resources: string[]; images: { name: string }[] };
    for (const file of kustomization.resources) expect(fs.existsSync(path.join(K8S_DIR, file)), file).toBe(true);
    expect(kustomization.images.map((i) => i.name)).toContain(container().image);
  });

  it('ConfigMap and Secret hold only provider settings; the pods and the Job read both', () => {
    for (const key of Object.keys(configMap())) expect(CONFIG_KEYS.has(key), `ConfigMap ${key}`).toBe(true);
    for (const key of Object.keys(k8s('Secret').stringData)) expect(CONFIG_KEYS.has(key), `Secret ${key}`).toBe(true);
    for (const c of [container(), k8s('Job').spec.template.spec.containers[0]]) {
      expect(c.envFrom).toEqual([{ configMapRef: { name: k8s('ConfigMap').metadata.name } }, { secretRef: { name: k8s('Secret').metadata.name } }]);
    }
  });

  it('listens where the probes, Service and ConfigMap say; probes ask /readyz and /healthz', () => {
    const port = container().ports.find((p: { name: string }) => p.name === 'http');
    expect(String(port.containerPort)).toBe(configMap().PORT);
    expect(configMap().HOST).toBe('0.0.0.0');
    const { readinessProbe, livenessProbe, startupProbe } = container();
    expect(readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    const service = k8s('Service');
    expect(service.spec.ports[0].targetPort).toBe('http');
    expect(service.spec.selector).toEqual(deployment().spec.template.metadata.labels);
    expect(k8s('PodDisruptionBudget').spec.selector.matchLabels).toEqual(deployment().spec.selector.matchLabels);
    expect(k8s('PodDisruptionBudget').spec.minAvailable).toBeLessThan(deployment().spec.replicas);
  });

  it('runs non-root on a read-only root filesystem with DATA_DIR writable; the grace period covers SHUTDOWN_DELAY and the drain', () => {
    const pod = deployment().spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(container().securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    // DATA_DIR below a mounted volume (an emptyDir belongs to root: the provider makes DATA_DIR itself, 0700).
    const dataDir = (configMap().DATA_DIR as string | undefined) ?? RUNTIME_ENV.DATA_DIR;
    const mounts = container().volumeMounts.map((m: { mountPath: string }) => m.mountPath) as string[];
    expect(
      mounts.some((m) => dataDir.startsWith(`${m}/`)),
      `DATA_DIR ${dataDir} in a subdirectory of a volume (${mounts.join(', ')})`,
    ).toBe(true);
    const drainSeconds = 5; // main.ts: connections still open 5 s into the drain are closed
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(Number(configMap().SHUTDOWN_DELAY) + drainSeconds);
  });

  it('the migration Job runs the compiled migrator, and the pods do not migrate themselves', () => {
    const job = k8s('Job').spec.template.spec.containers[0];
    expect(job.command[0]).toBe('node');
    expect(sourceOfBuilt(job.command[1])).toBe('provider/src/ops/migrate.ts');
    expect(configMap().MIGRATE_ON_START).toBe('0');
    expect(k8s('Job').spec.template.metadata.labels['app.kubernetes.io/name'], 'migration pods are not Service endpoints').toBeUndefined();
  });
});

describe('paths into dist/ named anywhere', () => {
  it('each is a file npm run build produces (the admin CLI moved once already)', () => {
    const files = [
      'README.md',
      'Dockerfile',
      'compose.yaml',
      'package.json',
      'scripts/prod-layout.sh',
      ...fs.readdirSync(K8S_DIR).map((f) => path.join(K8S_DIR, f)),
    ];
    const named = files.flatMap((f) => [...read(f).matchAll(/dist\/provider\/src\/[\w/.-]+\.js/g)].map((m) => [f, m[0]] as const));
    expect(named.length).toBeGreaterThan(10);
    for (const [file, built] of named) expect(sourceOfBuilt(built), `${file} names ${built}`).not.toBeNull();
  });
});

describe('README', () => {
  it('lists every provider setting in the configuration table', () => {
    const rows = README.split('\n').filter((l) => l.startsWith('| `'));
    for (const key of CONFIG_KEYS) {
      // A row names it whole, or as a suffix after its sibling (`RATE_LIMIT_ADMIN_LOGIN`, `_IP`).
      const listed = rows.some(
        (r) => r.includes(`\`${key}\``) || [...r.matchAll(/`(_\w+)`/g)].some((m) => key.endsWith(m[1]) && r.includes(`\`${key.slice(0, -m[1].length)}\``)),
      );
      expect(listed, `README configuration table lists ${key}`).toBe(true);
    }
  });
});

describe('the probe paths the files use are served', () => {
  const p = useProvider('embedded');

  it('every one answers 200 from a running provider', async () => {
    for (const [who, urlPath] of PROBES) {
      expect(urlPath, who).toMatch(/^\//);
      expect((await fetch(`${p.issuer}${urlPath}`)).status, `${who}: ${urlPath}`).toBe(200);
    }
  });
});
