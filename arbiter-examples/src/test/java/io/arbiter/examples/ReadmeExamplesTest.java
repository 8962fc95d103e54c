package io.arbiter.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every Java example in the README is compiled by the build: each ```java block is preceded by a
 * comment that names the source file and region it is copied from ({@code <!-- compiled:
 * PATH#REGION -->}), and this test checks that the block and the region are the same text. The
 * sources live in src/it/use-from-maven, a project outside the reactor that the invoker builds and
 * runs against the embedded PostgreSQL.
 */
class ReadmeExamplesTest {
  private static final Path ROOT = Path.of("").toAbsolutePath().getParent();
  private static final Pattern MARKER = Pattern.compile("<!-- compiled: (\\S+)#(\\S+) -->");

  @Test
  void everyJavaBlockInTheReadmeIsARegionOfACompiledSource() throws IOException {
    List<String> readme = Files.readAllLines(ROOT.resolve("README.md"));
    List<String> checked = new ArrayList<>();
    for (int i = 0; i < readme.size(); i++) {
      if (!readme.get(i).trim().equals("```java")) {
        continue;
      }
      int end = i + 1;
      while (!readme.get(end).trim().equals("```")) {
        end++;
      }
      String block = String.join("\n", stripTrailing(readme.subList(i + 1, end)));
      int before = i - 1;
      while (before >= 0 && readme.get(before).isBlank()) {
        before--;
      }
      Matcher m = before >= 0 ? MARKER.matcher(readme.get(before).trim()) : null;
      assertThat(m != null && m.matches())
          .as(
              "README.md line %d: a ```java block must be preceded by <!-- compiled: PATH#REGION -->"
                  + " naming the source it is copied from",
              i + 1)
          .isTrue();
      String region = region(ROOT.resolve(m.group(1)), m.group(2));
      assertThat(block)
          .as("README.md line %d is not the same text as %s#%s", i + 1, m.group(1), m.group(2))
          .isEqualTo(region);
      checked.add(m.group(2));
      i = end;
    }
    assertThat(checked).as("the README's Java examples").contains("quick-start", "balancing");
  }

  /** The lines between "// README: NAME" and "// README: end", without their common indent. */
  private static String region(Path source, String name) throws IOException {
    List<String> lines = Files.readAllLines(source);
    int start = -1;
    int end = -1;
    for (int i = 0; i < lines.size(); i++) {
      String t = lines.get(i).trim();
      if (t.equals("// README: " + name)) {
        start = i + 1;
      } else if (start >= 0 && t.equals("// README: end")) {
        end = i;
        break;
      }
    }
    assertThat(start >= 0 && end >= 0).as("region %s in %s", name, source).isTrue();
    List<String> body = lines.subList(start, end);
    int indent =
        body.stream()
            .filter(l -> !l.isBlank())
            .mapToInt(l -> l.length() - l.stripLeading().length())
            .min()
            .orElse(0);
    List<String> out = new ArrayList<>();
    for (String l : body) {
      out.add(l.isBlank() ? "" : l.substring(indent));
    }
    return String.join("\n", stripTrailing(out));
  }

  private static List<String> stripTrailing(List<String> lines) {
    return lines.stream().map(String::stripTrailing).toList();
  }
}
