import { describe, expect, it } from 'vitest';
import {
  composeOrderOrFallback,
  composeStartOrder,
  parseDependsOn,
  type OrderedContainer,
} from '../../src/docker/compose-order.js';

const c = (name: string, service?: string, dependsOn?: string): OrderedContainer => ({
  name,
  labels: {
    ...(service ? { 'com.docker.compose.service': service } : {}),
    ...(dependsOn !== undefined ? { 'com.docker.compose.depends_on': dependsOn } : {}),
  },
});
const names = (list: OrderedContainer[]) => list.map((x) => x.name);

describe('parseDependsOn', () => {
  it.each([
    { value: undefined, services: [] },
    { value: '', services: [] },
    { value: 'db:service_started:false', services: ['db'] },
    { value: 'db:service_healthy:false,cache:service_started:true', services: ['db', 'cache'] },
    // older Compose: service:condition; spaces and repeats tolerated
    { value: ' db:service_started , db:service_healthy:true,', services: ['db'] },
  ])('$value', ({ value, services }) => {
    expect(parseDependsOn(value)).toEqual(services);
  });
});

describe('composeStartOrder', () => {
  it.each([
    {
      what: 'a chain: dependencies first, whatever the input order',
      list: [
        c('p-web-1', 'web', 'app:service_started:false'),
        c('p-app-1', 'app', 'db:service_healthy:false'),
        c('p-db-1', 'db', ''),
      ],
      order: ['p-db-1', 'p-app-1', 'p-web-1'],
    },
    {
      what: 'a diamond; independent containers by name',
      list: [
        c('d', 'front', 'left:service_started:false,right:service_started:false'),
        c('c', 'right', 'base:service_started:false'),
        c('b', 'left', 'base:service_started:false'),
        c('a', 'base'),
        c('0-alone', 'alone'),
      ],
      order: ['0-alone', 'a', 'b', 'c', 'd'],
    },
    {
      what: 'replicas of a service all start before its dependants',
      list: [c('web', 'web', 'db:service_started:false'), c('db-2', 'db'), c('db-1', 'db')],
      order: ['db-1', 'db-2', 'web'],
    },
    {
      what: 'a dependency on a service not given is ignored; containers without labels by name',
      list: [c('z', 'web', 'gone:service_started:false'), c('y'), c('x')],
      order: ['x', 'y', 'z'],
    },
  ])('$what', ({ list, order }) => {
    expect(names(composeStartOrder(list))).toEqual(order);
  });

  it('a cycle is an error naming it', () => {
    const list = [
      c('a', 'a', 'b:service_started:false'),
      c('b', 'b', 'c:service_started:false'),
      c('c', 'c', 'a:x:false'),
    ];
    expect(() => composeStartOrder(list)).toThrow(/depends_on labels form a cycle: a -> b -> c -> a/);
  });

  it('composeOrderOrFallback: a cycle falls back to name order and says so', () => {
    const warnings: string[] = [];
    const list = [
      c('b', 'b', 'a:service_started:false'),
      c('a', 'a', 'b:service_started:false'),
      c('0', 'x', 'a:s:false'),
    ];
    expect(names(composeOrderOrFallback(list, (m) => warnings.push(m)))).toEqual(['0', 'a', 'b']);
    expect(warnings).toEqual([expect.stringMatching(/cycle: a -> b -> a.*using name order instead/)]);
  });
});
