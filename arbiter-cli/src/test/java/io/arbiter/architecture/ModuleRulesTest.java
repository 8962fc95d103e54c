package io.arbiter.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The dependency rules that span modules (docs/architecture.md), checked here because every module
 * is on this module's classpath. The rules inside arbiter-core are in its own ArchitectureTest.
 */
class ModuleRulesTest {
  /** Every module but arbiter-core, by package. */
  private static final String[] OUTSIDE_CORE = {
    "io.arbiter.jdbc..",
    "io.arbiter.web..",
    "io.arbiter.examples..",
    "io.arbiter.cli..",
    "io.arbiter.bench..",
    "io.arbiter.chaos..",
    "io.arbiter.testkit.."
  };

  private static JavaClasses arbiter;

  @BeforeAll
  static void importEverything() {
    arbiter =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.arbiter");
    // The rules below would pass vacuously on an empty import: make sure the modules are in it.
    for (String name : new String[] {"io.arbiter.jdbc.JdbcFence", "io.arbiter.cli.Main"}) {
      if (!arbiter.contain(name)) {
        throw new IllegalStateException(name + " is not on the classpath of this test");
      }
    }
  }

  @Test
  void onlyArbiterCoreTouchesTheEngine() {
    noClasses()
        .that()
        .resideInAnyPackage(OUTSIDE_CORE)
        .should()
        .dependOnClassesThat()
        .resideInAPackage("io.arbiter.internal..")
        .because("backends implement the SPI and tools use the public API; the engine may change")
        .check(arbiter);
  }

  @Test
  void whatAServerEmbedsCarriesNoTestOrDemoCode() {
    noClasses()
        .that()
        .resideInAnyPackage("io.arbiter.jdbc..", "io.arbiter.web..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "io.arbiter.examples..",
            "io.arbiter.cli..",
            "io.arbiter.bench..",
            "io.arbiter.chaos..",
            "io.arbiter.testkit..",
            "org.junit..",
            "io.zonky..")
        .check(arbiter);
  }
}
