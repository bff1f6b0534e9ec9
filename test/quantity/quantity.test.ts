import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Quantity,
  QuantityError,
  QUANTITY_FORMAT_MESSAGE,
  compareQuantities,
  formatQuantity,
  parseQuantity,
  tryParseQuantity,
} from '../../api/quantity.js';

describe('parseQuantity: values', () => {
  // [input, exact value in nano-units, remembered format]
  const cases: [string, bigint, string][] = [
    ['0', 0n, 'DecimalSI'],
    ['0m', 0n, 'DecimalSI'],
    ['0Ki', 0n, 'BinarySI'],
    ['1', 1_000_000_000n, 'DecimalSI'],
    ['100m', 100_000_000n, 'DecimalSI'],
    ['250m', 250_000_000n, 'DecimalSI'],
    ['0.5', 500_000_000n, 'DecimalSI'],
    ['.5', 500_000_000n, 'DecimalSI'],
    ['1.', 1_000_000_000n, 'DecimalSI'],
    ['1.G', 10n ** 18n, 'DecimalSI'],
    ['5n', 5n, 'DecimalSI'],
    ['4u', 4_000n, 'DecimalSI'],
    ['8k', 8n * 10n ** 12n, 'DecimalSI'],
    ['1G', 10n ** 18n, 'DecimalSI'],
    ['12E', 12n * 10n ** 27n, 'DecimalSI'],
    ['1Ki', 1024n * 10n ** 9n, 'BinarySI'],
    ['128Mi', 128n * 2n ** 20n * 10n ** 9n, 'BinarySI'],
    ['3Ei', 3n * 2n ** 60n * 10n ** 9n, 'BinarySI'],
    ['1e3', 10n ** 12n, 'DecimalExponent'],
    ['1E-3', 10n ** 6n, 'DecimalExponent'],
    ['1.3E+6', 13n * 10n ** 14n, 'DecimalExponent'],
    ['100.035k', 100_035n * 10n ** 9n, 'DecimalSI'],
    ['0.0005k', 500_000_000n, 'DecimalSI'],
    ['-1.5', -1_500_000_000n, 'DecimalSI'],
    ['+2Gi', 2n * 2n ** 30n * 10n ** 9n, 'BinarySI'],
    // Finer than nano rounds away from zero ("if you ask for some, you get some").
    ['3.001n', 4n, 'DecimalSI'],
    ['0.9n', 1n, 'DecimalSI'],
    ['0.00000012345', 124n, 'DecimalSI'],
    ['-0.9n', -1n, 'DecimalSI'],
    // Fractional binary quantities keep their format unless they are below one.
    ['0.5Mi', 524_288n * 10n ** 9n, 'BinarySI'],
    ['100.035Ki', 102_435_840n * 10n ** 6n, 'BinarySI'],
    ['0.000000000001Ki', 2n, 'DecimalSI'],
    // Binary quantities are capped at 2^63-1.
    ['9Ei', (2n ** 63n - 1n) * 10n ** 9n, 'BinarySI'],
  ];
  for (const [input, nanos, format] of cases) {
    test(`${input} is ${nanos}n (${format})`, () => {
      const q = parseQuantity(input);
      assert.equal(q.nanos, nanos);
      assert.equal(q.format, format);
    });
  }
});

describe('parseQuantity: serialized form', () => {
  // [input, what Kubernetes writes back]
  const cases: [string, string][] = [
    ['100m', '100m'],
    ['1', '1'],
    ['0.5', '500m'],
    ['1.5', '1500m'],
    ['1000m', '1'],
    ['1.5k', '1500'],
    ['50k', '50k'],
    ['1000M', '1G'],
    ['1.5Gi', '1536Mi'],
    ['1024Mi', '1Gi'],
    ['307200Ki', '300Mi'],
    ['1000Ki', '1000Ki'],
    ['0.5Ki', '512'],
    ['1.5Ki', '1536'],
    ['.001Ki', '1024m'],
    ['.000000001Ki', '1024n'],
    ['.000000000001Ki', '2n'],
    ['1e3', '1e3'],
    ['1e4', '10e3'],
    ['1.5e3', '1500'],
    ['.001e12', '1e9'],
    ['0.001e0', '1e-3'],
    ['1000e-12', '1e-9'],
    ['80e-3', '80e-3'],
    ['1000E', '1e21'],
    ['1.08', '1080m'],
    ['1080000000n', '1080m'],
    ['0.001T', '1G'],
    ['1000u', '1m'],
    ['00', '0'],
    ['0Mi', '0'],
    ['-1.5Gi', '-1536Mi'],
    ['-1Ki', '-1Ki'],
    ['9Ei', '9223372036854775807'],
    // Kubernetes keeps the original text when it is already canonical, sign and case included.
    ['+1', '+1'],
    ['1E3', '1E3'],
  ];
  for (const [input, expected] of cases) {
    test(`${input} → ${expected}`, () => {
      assert.equal(parseQuantity(input).toString(), expected);
      assert.equal(formatQuantity(parseQuantity(input)), expected);
      assert.equal(JSON.stringify({ cpu: parseQuantity(input) }), `{"cpu":"${expected}"}`);
    });
  }

  test('the canonical form ignores the remembered text', () => {
    assert.equal(parseQuantity('+1').canonical(), '1');
    assert.equal(parseQuantity('1E3').canonical(), '1e3');
  });

  test('numbers are accepted, as YAML `cpu: 0.5` arrives as a JSON number', () => {
    assert.equal(parseQuantity(0.5).toString(), '500m');
    assert.equal(parseQuantity(2).toString(), '2');
    // String(1e-7) is '1e-7': a decimal exponent, as Go sees the raw JSON number.
    assert.equal(parseQuantity(1e-7).toString(), '100e-9');
  });
});

describe('parseQuantity: errors', () => {
  const formatErrors = ['', 'aoeu', '1.1.M', '1+1.0M', '0.1am', ' 1', '1 ', '1 Gi', '1KI', '1gi'];
  for (const input of formatErrors) {
    test(`${JSON.stringify(input)} is not a quantity`, () => {
      assert.throws(() => parseQuantity(input), (err: unknown) => err instanceof QuantityError && err.message === QUANTITY_FORMAT_MESSAGE);
    });
  }
  const suffixErrors = ['0.1mi', '.5i', '1i', '-3.01i', '-3.01e-', '1e', '1ki', '1Kii'];
  for (const input of suffixErrors) {
    test(`${JSON.stringify(input)} has a bad suffix`, () => {
      assert.throws(() => parseQuantity(input), { name: 'QuantityError', message: "unable to parse quantity's suffix" });
    });
  }
  test('the message quotes Kubernetes regular expression', () => {
    assert.equal(
      QUANTITY_FORMAT_MESSAGE,
      "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    );
  });
  test('tryParseQuantity returns undefined instead of throwing', () => {
    assert.equal(tryParseQuantity('lots'), undefined);
    assert.equal(tryParseQuantity('2Gi')?.value(), 2 * 1024 ** 3);
  });
  test('non-finite numbers are refused', () => {
    assert.throws(() => parseQuantity(Number.NaN), QuantityError);
    assert.throws(() => parseQuantity(Infinity), QuantityError);
  });
});

describe('Quantity accessors', () => {
  test('value() and milliValue() round away from zero like Kubernetes', () => {
    assert.equal(parseQuantity('100m').value(), 1);
    assert.equal(parseQuantity('-100m').value(), -1);
    assert.equal(parseQuantity('1.5').value(), 2);
    assert.equal(parseQuantity('2').value(), 2);
    assert.equal(parseQuantity('0.5').milliValue(), 500);
    assert.equal(parseQuantity('250m').milliValue(), 250);
    assert.equal(parseQuantity('1n').milliValue(), 1);
    assert.equal(parseQuantity('-1n').milliValue(), -1);
    assert.equal(parseQuantity('128Mi').value(), 134_217_728);
    assert.equal(parseQuantity('1G').milliValue(), 1e12);
  });

  test('comparison is exact across suffix styles', () => {
    assert.equal(compareQuantities(parseQuantity('100m'), parseQuantity('50m')), 1);
    assert.equal(compareQuantities(parseQuantity('50m'), parseQuantity('100m')), -1);
    assert.equal(compareQuantities(parseQuantity('10000T'), parseQuantity('100Gi')), 1);
    assert.equal(compareQuantities(parseQuantity('1Ki'), parseQuantity('1024')), 0);
    assert.ok(parseQuantity('1e3').equals(parseQuantity('1k')));
    assert.ok(parseQuantity('0.1').equals(parseQuantity('100m')));
  });

  test('sums keep the format of the first non-zero operand and are exact', () => {
    const cpu = ['100m', '250m', '0.65'].map((s) => parseQuantity(s)).reduce((a, b) => a.add(b), Quantity.zero());
    assert.equal(cpu.toString(), '1');
    assert.equal(cpu.milliValue(), 1000);
    const memory = parseQuantity('0').add(parseQuantity('1Gi')).add(parseQuantity('512Mi'));
    assert.equal(memory.toString(), '1536Mi');
    assert.equal(parseQuantity('1Gi').add(parseQuantity('0')).toString(), '1Gi');
    assert.equal(parseQuantity('100m').add(parseQuantity('0')).toString(), '100m');
    // 0.1 + 0.2 is exactly 0.3 here.
    assert.ok(parseQuantity('0.1').add(parseQuantity('0.2')).equals(parseQuantity('0.3')));
  });

  test('subtraction, negation and multiplication', () => {
    assert.equal(parseQuantity('1').sub(parseQuantity('250m')).toString(), '750m');
    assert.equal(parseQuantity('0').sub(parseQuantity('1Gi')).toString(), '-1Gi');
    assert.equal(parseQuantity('9.01').neg().toString(), '-9010m');
    assert.equal(parseQuantity('128Mi').mul(3).toString(), '384Mi');
    assert.equal(parseQuantity('100m').sign(), 1);
    assert.equal(parseQuantity('-100m').sign(), -1);
    assert.ok(parseQuantity('0Gi').isZero());
  });

  test('constructors produce the canonical form of their format', () => {
    assert.equal(Quantity.fromMilli(250).toString(), '250m');
    assert.equal(Quantity.fromMilli(1000).toString(), '1');
    assert.equal(Quantity.fromMilli(1024, 'BinarySI').toString(), '1024m');
    assert.equal(Quantity.fromValue(1000).toString(), '1k');
    assert.equal(Quantity.fromValue(1234000).toString(), '1234k');
    assert.equal(Quantity.fromValue(1024, 'BinarySI').toString(), '1Ki');
    assert.equal(Quantity.fromValue(134_217_728, 'BinarySI').toString(), '128Mi');
    assert.equal(Quantity.fromValue(1_000_000, 'DecimalExponent').toString(), '1e6');
    assert.equal(Quantity.fromNanos(5n).toString(), '5n');
    assert.throws(() => Quantity.fromValue(1.5), RangeError);
  });

  test('a text parsed again gives the same quantity; a malformed one fails every time', () => {
    for (const text of ['100m', '0.1', '128Mi', '1e3', '1.5Gi', '0100m']) {
      const first = parseQuantity(text);
      const again = parseQuantity(text);
      assert.ok(first.equals(again) && first.format === again.format && first.toString() === again.toString(), text);
    }
    // 0.1 and 100m are the same amount, each keeps its own text.
    assert.equal(parseQuantity('0.1').toString(), '100m');
    assert.equal(parseQuantity('100m').milliValue(), 100);
    for (let i = 0; i < 2; i++) assert.throws(() => parseQuantity('12XiB'), QuantityError);
  });
});

