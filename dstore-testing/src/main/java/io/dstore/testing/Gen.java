package io.dstore.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * Building blocks for {@link ForAll} generators. Sizes are drawn so that small ones (0, 1, a few)
 * come up often, and characters so that the troublesome ones (NUL, line ends, lone surrogates,
 * multi-byte UTF-8) are common rather than one in sixty thousand.
 */
public final class Gen {
  private static final String TROUBLE =
      "\u0000\n\r\t \u0085\u2028\u2029\u001b\u007f\ud800\udbff\udc00\udfff\ufeff\ufffd\uffffé€";

  private Gen() {}

  /** One of {@code choices}, uniformly. */
  @SafeVarargs
  public static <T> T pick(Random r, T... choices) {
    return choices[r.nextInt(choices.length)];
  }

  /** An index {@code i} drawn with probability proportional to {@code weights[i]}. */
  public static int weighted(Random r, int... weights) {
    int total = 0;
    for (int w : weights) {
      total += w;
    }
    int x = r.nextInt(total);
    for (int i = 0; i < weights.length; i++) {
      x -= weights[i];
      if (x < 0) {
        return i;
      }
    }
    throw new AssertionError("unreachable");
  }

  /** True with probability {@code p}. */
  public static boolean chance(Random r, double p) {
    return r.nextDouble() < p;
  }

  /** A size in {@code [min, max]}: a quarter of the time min, else small sizes more often. */
  public static int size(Random r, int min, int max) {
    if (min == max || r.nextInt(4) == 0) {
      return min;
    }
    int span = max - min;
    // Squaring a uniform fraction leans towards the small end without excluding the large one.
    double f = r.nextDouble();
    return min + (int) Math.round(f * f * span);
  }

  /** Random bytes, a length from {@link #size}. */
  public static byte[] bytes(Random r, int min, int max) {
    byte[] b = new byte[size(r, min, max)];
    r.nextBytes(b);
    return b;
  }

  /** A list of {@link #size} elements, each from {@code element}. */
  public static <T> List<T> list(Random r, int min, int max, Function<Random, T> element) {
    int n = size(r, min, max);
    List<T> list = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      list.add(element.apply(r));
    }
    return list;
  }

  /**
   * Any UTF-16 text: lone surrogates, NUL, controls and line ends included, with a length from
   * {@link #size}.
   */
  public static String anyText(Random r, int min, int max) {
    int n = size(r, min, max);
    StringBuilder b = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      b.append(anyChar(r));
    }
    return b.toString();
  }

  /**
   * Well-formed text: like {@link #anyText}, but each surrogate drawn becomes a whole pair (a
   * supplementary code point, four bytes in UTF-8), so no surrogate is left unpaired. Its length in
   * chars is from {@link #size}, plus at most one for a pair drawn last.
   */
  public static String wellFormedText(Random r, int min, int max) {
    int n = size(r, min, max);
    StringBuilder b = new StringBuilder(n + 1);
    while (b.length() < n) {
      char c = anyChar(r);
      if (Character.isSurrogate(c)) {
        b.appendCodePoint(Character.MIN_SUPPLEMENTARY_CODE_POINT + r.nextInt(0x100000));
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  /** Text of {@link #size} characters, each one of {@code chars}. */
  public static String textOf(Random r, String chars, int min, int max) {
    int n = size(r, min, max);
    StringBuilder b = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      b.append(chars.charAt(r.nextInt(chars.length())));
    }
    return b.toString();
  }

  /** Any char: a third ASCII, a sixth troublesome, the rest anywhere in the 16-bit range. */
  public static char anyChar(Random r) {
    return switch (r.nextInt(6)) {
      case 0, 1 -> (char) r.nextInt(0x80);
      case 2 -> TROUBLE.charAt(r.nextInt(TROUBLE.length()));
      default -> (char) r.nextInt(0x10000);
    };
  }
}
