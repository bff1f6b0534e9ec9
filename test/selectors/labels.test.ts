import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../../api/errors.js';
import {
  LabelSelector,
  formatLabelSelector,
  formatLabels,
  labelRequirement,
  labelSelectorAsString,
  parseLabelSelector,
  selectorFromLabelSelector,
  selectorFromSet,
  validateLabelSelector,
} from '../../api/labels.js';

function badRequestMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StatusError, `expected a StatusError, got ${String(err)}`);
    assert.equal(err.code, 400);
    assert.equal(err.reason, 'BadRequest');
    return err.message;
  }
  assert.fail('expected an error');
}

describe('parseLabelSelector: matching', () => {
  const web = { app: 'web', env: 'dev', partition: 'a' };
  const db = { app: 'db', env: 'prod' };
  // [selector, matches web, matches db, matches an object without labels]
  const cases: [string, boolean, boolean, boolean][] = [
    ['', true, true, true],
    ['app=web', true, false, false],
    ['app==web', true, false, false],
    ['app!=web', false, true, true],
    ['env in (dev, test)', true, false, false],
    ['env notin (dev)', false, true, true],
    ['partition', true, false, false],
    ['!partition', false, true, true],
    ['app=web,env=dev', true, false, false],
    ['app=web,env=prod', false, false, false],
    ['  app = web ,  ! partition ', false, false, false],
    ['app in (web,db),!partition', false, true, false],
    ['env=', false, false, false],
    ['env notin ()', true, true, true],
  ];
  for (const [text, matchesWeb, matchesDb, matchesBare] of cases) {
    test(JSON.stringify(text), () => {
      const selector = parseLabelSelector(text);
      assert.equal(selector.matches(web), matchesWeb, 'web');
      assert.equal(selector.matches(db), matchesDb, 'db');
      assert.equal(selector.matches(undefined), matchesBare, 'no labels');
      assert.equal(selector.matches({}), matchesBare, 'empty labels');
    });
  }

  test('an empty value matches only a label that is present and empty', () => {
    const selector = parseLabelSelector('tier=');
    assert.equal(selector.matches({ tier: '' }), true);
    assert.equal(selector.matches({}), false);
  });

  test('gt and lt compare integers', () => {
    assert.equal(parseLabelSelector('rank>5').matches({ rank: '7' }), true);
    assert.equal(parseLabelSelector('rank>5').matches({ rank: '5' }), false);
    assert.equal(parseLabelSelector('rank<5').matches({ rank: '-2' }), true);
    assert.equal(parseLabelSelector('rank<5').matches({ rank: 'x' }), false);
    assert.equal(parseLabelSelector('rank<5').matches({}), false);
  });

  test('inherited object properties are not labels', () => {
    assert.equal(parseLabelSelector('constructor').matches({}), false);
    assert.equal(parseLabelSelector('!toString').matches({}), true);
  });

  test('in and notin are keywords only in operator position', () => {
    const selector = parseLabelSelector('in in (in, notin)');
    assert.equal(selector.matches({ in: 'notin' }), true);
    assert.equal(selector.toString(), 'in in (in,notin)');
  });
});

describe('parseLabelSelector: canonical string', () => {
  const cases: [string, string][] = [
    ['', ''],
    ['app=web', 'app=web'],
    ['tier in (frontend , backend),app==web', 'app==web,tier in (backend,frontend)'],
    ['x in (foo,,baz),y,z notin ()', 'x in (,baz,foo),y,z notin ()'],
    ['!b,a', 'a,!b'],
    ['a in (b,)', 'a in (,b)'],
    ['a in (b,b)', 'a in (b)'],
    ['example.com/role != db', 'example.com/role!=db'],
    ['n>3', 'n>3'],
  ];
  for (const [input, canonical] of cases) {
    test(`${JSON.stringify(input)} → ${JSON.stringify(canonical)}`, () => {
      const selector = parseLabelSelector(input);
      assert.equal(selector.toString(), canonical);
      // The canonical form parses back to the same selector.
      assert.equal(parseLabelSelector(canonical).toString(), canonical);
    });
  }

  test('requirements are exposed sorted by key', () => {
    const selector = parseLabelSelector('tier notin (frontend),app=web,!partition');
    assert.deepEqual(selector.requirements, [
      { key: 'app', operator: '=', values: ['web'] },
      { key: 'partition', operator: '!', values: [] },
      { key: 'tier', operator: 'notin', values: ['frontend'] },
    ]);
    assert.equal(selector.empty, false);
    assert.equal(parseLabelSelector('  ').empty, true);
  });

  test('requiresExactMatch finds the value an index can use', () => {
    const selector = parseLabelSelector('app=web,tier in (a),env in (x,y)');
    assert.equal(selector.requiresExactMatch('app'), 'web');
    assert.equal(selector.requiresExactMatch('tier'), 'a');
    assert.equal(selector.requiresExactMatch('env'), undefined);
    assert.equal(selector.requiresExactMatch('other'), undefined);
  });
});

describe('parseLabelSelector: errors', () => {
  const qualifiedNameRule =
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
  const cases: [string, string][] = [
    ['app:web', `unable to parse requirement: <nil>: Invalid value: "app:web": ${qualifiedNameRule}`],
    ['a b', 'unable to parse requirement: found \'b\', expected: in, notin, =, ==, !=, gt, lt'],
    ['app=web extra', "found 'extra', expected: ',' or 'end of string'"],
    ['app=web,', "found '', expected: identifier after ','"],
    [',', "found ',', expected: !, identifier, or 'end of string'"],
    ['x in', "unable to parse requirement: found '' expected: '('"],
    ['x in (a b)', "unable to parse requirement: found 'b', expected: ',' or ')'"],
    ['x in (=)', "unable to parse requirement: found '=', expected: ',', ')' or identifier"],
    ['x in (,=)', "unable to parse requirement: found '=', expected: ',', or identifier"],
    ['x=(', "unable to parse requirement: found '(', expected: identifier"],
    ['!a=b', "found '=', expected: ',' or 'end of string'"],
    ['! =a', "unable to parse requirement: found '=', expected: identifier"],
    ['!=a', "found '!=', expected: !, identifier, or 'end of string'"],
    ['n>x', 'unable to parse requirement: values[0]: Invalid value: "x": for \'Gt\', \'Lt\' operators, the value must be an integer'],
  ];
  for (const [input, message] of cases) {
    test(JSON.stringify(input), () => {
      assert.equal(badRequestMessage(() => parseLabelSelector(input)), message);
    });
  }

  test('a bad value names the value and its key', () => {
    const message = badRequestMessage(() => parseLabelSelector('app=we$b'));
    assert.match(message, /^unable to parse requirement: values\[0\]\[app\]: Invalid value: "we\$b": a valid label must be/);
  });

  test('a bad prefix is reported', () => {
    const message = badRequestMessage(() => parseLabelSelector('app.kubernetes_io/name=x'));
    assert.match(message, /^unable to parse requirement: <nil>: Invalid value: "app.kubernetes_io\/name": prefix part a lowercase RFC 1123 subdomain/);
  });
});

describe('meta/v1 LabelSelector', () => {
  test('null selects nothing, {} selects everything', () => {
    const none = selectorFromLabelSelector(null);
    assert.ok(none.ok);
    assert.equal(none.selector.matches({ app: 'web' }), false);
    assert.equal(none.selector.empty, false);
    const all = selectorFromLabelSelector({});
    assert.ok(all.ok);
    assert.equal(all.selector.matches(undefined), true);
    assert.equal(all.selector.empty, true);
    assert.equal(LabelSelector.nothing().and(labelRequirement('a', 'exists')).matches({ a: 'x' }), false);
  });

  test('matchLabels and matchExpressions are ANDed', () => {
    const converted = selectorFromLabelSelector({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['test', 'dev'] },
        { key: 'tier', operator: 'NotIn', values: ['frontend'] },
        { key: 'partition', operator: 'Exists' },
        { key: 'canary', operator: 'DoesNotExist' },
      ],
    });
    assert.ok(converted.ok);
    const { selector } = converted;
    assert.equal(selector.toString(), 'app=web,!canary,env in (dev,test),partition,tier notin (frontend)');
    assert.equal(selector.matches({ app: 'web', env: 'dev', partition: '1' }), true);
    assert.equal(selector.matches({ app: 'web', env: 'dev', partition: '1', canary: 'y' }), false);
    assert.equal(selector.matches({ app: 'web', env: 'prod', partition: '1' }), false);
    assert.equal(selector.matches({ app: 'web', env: 'dev', partition: '1', tier: 'frontend' }), false);
  });

  test('invalid selectors come back as field errors', () => {
    const converted = selectorFromLabelSelector(
      {
        matchLabels: { 'bad key!': 'v' },
        matchExpressions: [
          { key: 'env', operator: 'In', values: [] },
          { key: 'zone', operator: 'Exists', values: ['a'] },
          { key: 'x', operator: 'Equals', values: ['a'] },
        ],
      },
      'spec.selector',
    );
    assert.ok(!converted.ok);
    const summary = converted.errors.map((e) => `${e.type} ${e.field}`);
    assert.deepEqual(summary, [
      'FieldValueInvalid spec.selector.matchLabels',
      'FieldValueRequired spec.selector.matchExpressions[0].values',
      'FieldValueForbidden spec.selector.matchExpressions[1].values',
      'FieldValueInvalid spec.selector.matchExpressions[2].operator',
    ]);
    assert.equal(converted.errors[1]!.detail, "must be specified when `operator` is 'In' or 'NotIn'");
    assert.equal(converted.errors[2]!.detail, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
    assert.deepEqual(validateLabelSelector({ matchLabels: { app: 'web' } }, 'spec.selector'), []);
    assert.deepEqual(validateLabelSelector(null), []);
  });

  test('string forms for Scale.status.selector and the SELECTOR column', () => {
    const selector = { matchLabels: { app: 'web', 'pod-template-hash': '5d8f' } };
    assert.equal(labelSelectorAsString(selector), 'app=web,pod-template-hash=5d8f');
    assert.equal(labelSelectorAsString({}), '');
    assert.equal(formatLabelSelector(selector), 'app=web,pod-template-hash=5d8f');
    assert.equal(formatLabelSelector({}), '<none>');
    assert.equal(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In' }] }), '<error>');
    assert.throws(() => labelSelectorAsString({ matchExpressions: [{ key: 'a', operator: 'In' }] }), StatusError);
  });

  test('label sets', () => {
    assert.equal(selectorFromSet({ b: '2', a: '1' }).toString(), 'a=1,b=2');
    assert.equal(selectorFromSet({}).empty, true);
    assert.equal(selectorFromSet(undefined).matches({ x: 'y' }), true);
    assert.equal(selectorFromSet({ app: 'web' }).matches({ app: 'web', other: 'x' }), true);
    assert.equal(formatLabels({ b: '2', a: '1' }), 'a=1,b=2');
    assert.equal(formatLabels(undefined), '<none>');
  });

  test('labelRequirement validates', () => {
    assert.deepEqual(labelRequirement('pod-template-hash', '=', ['abc']), {
      key: 'pod-template-hash',
      operator: '=',
      values: ['abc'],
    });
    assert.equal(
      badRequestMessage(() => labelRequirement('app', 'in', [])),
      "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty",
    );
    assert.match(badRequestMessage(() => labelRequirement('app', 'exists', ['x'])), /values set must be empty/);
    const extended = parseLabelSelector('app=web').and(labelRequirement('pod-template-hash', '=', ['abc']));
    assert.equal(extended.toString(), 'app=web,pod-template-hash=abc');
  });
});
