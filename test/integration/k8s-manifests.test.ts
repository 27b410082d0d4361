/**
 * deploy/k8s/payflux.yaml: every document valid against the Kubernetes API schemas (the
 * validators kubernetes-models generates from Kubernetes' OpenAPI with Ajv), and consistent
 * with the code: probe paths PayFlux answers on the port it listens on, only variables the
 * configuration schema reads, roles it knows.
 */
import { readFileSync } from 'node:fs';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ENV_VARS, loadConfig, parseHostPort } from '../../src/config.js';
import { ROLES } from '../../src/config-types.js';
import { start, type Running } from '../../src/main.js';

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: unknown };
const text = readFileSync(new URL('../../deploy/k8s/payflux.yaml', import.meta.url), 'utf8');
const docs = parseAllDocuments(text).map((d) => {
  expect(d.errors).toEqual([]);
  return d.toJS() as Manifest;
});
const of = (kind: string): Manifest[] => docs.filter((d) => d.kind === kind);

interface Container {
  name: string;
  ports: { name: string; containerPort: number }[];
  env?: { name: string; value?: string }[];
  envFrom: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  resources: { requests: { memory: string } };
}
const deployments = of('Deployment').map((d) => ({
  name: d.metadata.name,
  container: (d as unknown as { spec: { template: { spec: { containers: Container[] } } } }).spec.template.spec
    .containers[0]!,
}));
const configMap = of('ConfigMap')[0] as unknown as { data: Record<string, string> };
const secret = of('Secret')[0] as unknown as { stringData: Record<string, string> };

describe('the Kubernetes manifests', () => {
  it('are each valid against the Kubernetes schema of their kind', () => {
    expect(docs.map((d) => d.kind).sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'Deployment',
      'HorizontalPodAutoscaler',
      'PodDisruptionBudget',
      'PodDisruptionBudget',
      'Secret',
      'Service',
    ]);
    for (const d of docs) {
      const Model = MODELS[`${d.apiVersion}/${d.kind}`];
      expect(Model, `${d.apiVersion} ${d.kind}`).toBeDefined();
      expect(() => new Model!(d as never).validate(), `${d.kind} ${d.metadata.name}`).not.toThrow();
    }
  });

  it('would be refused by the schema with a wrong type (the validation is real)', () => {
    const bad = structuredClone(of('Deployment')[0]!) as unknown as { spec: { replicas: unknown } };
    bad.spec.replicas = 'two';
    expect(() => new Deployment(bad as never).validate()).toThrow();
  });

  it('set only variables PayFlux reads, with values its configuration accepts', () => {
    const names = [
      ...Object.keys(configMap.data),
      ...Object.keys(secret.stringData),
      ...deployments.flatMap((d) => (d.container.env ?? []).map((e) => e.name)),
    ];
    expect(names.filter((n) => !ENV_VARS.includes(n))).toEqual([]);
    for (const d of deployments) {
      expect(d.container.envFrom).toEqual([{ configMapRef: { name: 'payflux' } }, { secretRef: { name: 'payflux' } }]);
      const role = d.container.env?.find((e) => e.name === 'PAYFLUX_ROLE')?.value;
      expect(ROLES, d.name).toContain(role);
      // The ConfigMap as it stands, with a real key in place of the Secret's placeholder.
      expect(() =>
        loadConfig({ ...configMap.data, PAYFLUX_ROLE: role, PAYFLUX_API_KEYS: 'Zq81nVd0c4Lk2mR7xPa' }),
      ).not.toThrow();
    }
    // …and the Secret's placeholder is refused, so nobody runs it by accident.
    expect(() => loadConfig({ ...configMap.data, ...secret.stringData })).toThrow(/placeholder/);
    expect(deployments.map((d) => d.container.env?.find((e) => e.name === 'PAYFLUX_ROLE')?.value).sort()).toEqual([
      'consumer',
      'ingest',
    ]);
  });

  it('probe the port PayFlux listens on', () => {
    const port = parseHostPort(configMap.data.HTTP_ADDR!)?.port;
    for (const { container } of deployments) {
      const http = container.ports.find((p) => p.name === 'http');
      expect(http?.containerPort).toBe(port);
      expect(container.livenessProbe.httpGet).toEqual({ path: '/health', port: 'http' });
      expect(container.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'http' });
    }
    const service = of('Service')[0] as unknown as { spec: { ports: { targetPort: string }[] } };
    expect(service.spec.ports[0]?.targetPort).toBe('http');
  });

  it('request the memory PayFlux was measured to need (RSS under 250 MB)', () => {
    for (const { container } of deployments) expect(container.resources.requests.memory).toBe('256Mi');
  });

  it('keep an ingest and a consumer pod through voluntary disruptions', () => {
    const selectors = of('PodDisruptionBudget').map(
      (p) =>
        (p as unknown as { spec: { selector: { matchLabels: Record<string, string> } } }).spec.selector.matchLabels,
    );
    expect(selectors.map((s) => s['app.kubernetes.io/component']).sort()).toEqual(['consumer', 'ingest']);
  });
});

describe('the probe paths', () => {
  let running: Running | undefined;
  beforeAll(async () => {
    running = await start(
      loadConfig({ HTTP_ADDR: '127.0.0.1:0', PAYFLUX_BUFFER: 'memory', PAYFLUX_LOG_LEVEL: 'silent' }),
      {
        logger: pino({ level: 'silent' }),
      },
    );
  });
  afterAll(async () => running?.close());

  it('are answered 200 by a healthy PayFlux, without a key', async () => {
    for (const { container } of deployments)
      for (const probe of [container.livenessProbe, container.readinessProbe]) {
        const res = await fetch(`${running!.url}${probe.httpGet.path}`);
        await res.arrayBuffer();
        expect(res.status, probe.httpGet.path).toBe(200);
      }
  });
});
