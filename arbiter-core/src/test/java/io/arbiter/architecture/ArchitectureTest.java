package io.arbiter.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaField;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The dependency rules of arbiter-core (docs/architecture.md): the public packages are the API, the
 * engine lives in {@code io.arbiter.internal}, and only the {@code Cluster} façade reaches into it.
 * The rules that span modules (backends and tools never touch the engine) are checked where every
 * module is on the classpath, in arbiter-cli.
 */
class ArchitectureTest {
  static final String INTERNAL = "io.arbiter.internal..";

  private static JavaClasses core;

  @BeforeAll
  static void importCore() {
    core =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.arbiter");
  }

  @Test
  void publicSignaturesExposeNoInternalType() {
    ArchRule rule =
        classes()
            .that()
            .resideOutsideOfPackage(INTERNAL)
            .and()
            .arePublic()
            .should(exposeNoInternalType())
            .because("a user's code must compile against the API alone");
    rule.check(core);
  }

  @Test
  void onlyTheClusterFacadeReachesIntoTheEngine() {
    ArchRule rule =
        noClasses()
            .that()
            .resideOutsideOfPackage(INTERNAL)
            .and(notTheFacade())
            .should()
            .dependOnClassesThat()
            .resideInAPackage(INTERNAL)
            .because("the API, the SPI and the recipes use the public API only");
    rule.check(core);
  }

  @Test
  void recipesUseThePublicApiAndTheSpiOnly() {
    ArchRule rule =
        noClasses()
            .that()
            .resideInAnyPackage("io.arbiter.events..", "io.arbiter.sessions..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(INTERNAL)
            .orShould()
            .dependOnClassesThat()
            .haveFullyQualifiedName("io.arbiter.Cluster")
            .because("a recipe is built on the public API and the SPI, like Curator's recipes");
    rule.check(core);
  }

  @Test
  void theSpiKnowsNothingOfTheEngineOrTheRecipes() {
    ArchRule rule =
        noClasses()
            .that()
            .resideInAPackage("io.arbiter.spi..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(INTERNAL, "io.arbiter.sessions..")
            .because("backends implement the SPI and must not be tied to the engine");
    rule.check(core);
  }

  @Test
  void theEngineHasNoPublicTypeOutsideInternal() {
    // The planted-bug seam is a package-private constant of the engine: nothing outside it can
    // switch a safety mechanism off.
    ArchRule rule =
        classes()
            .that()
            .haveSimpleName("PlantedBugs")
            .should()
            .resideInAPackage(INTERNAL)
            .andShould()
            .notBePublic();
    rule.check(core);
  }

  private static DescribedPredicate<JavaClass> notTheFacade() {
    return DescribedPredicate.describe(
        "are not the Cluster façade",
        c ->
            !c.getName().equals("io.arbiter.Cluster")
                && !c.getName().startsWith("io.arbiter.Cluster$"));
  }

  /** Public and protected members of the class must not name an internal type. */
  private static ArchCondition<JavaClass> exposeNoInternalType() {
    return new ArchCondition<>("expose no io.arbiter.internal type in a public signature") {
      @Override
      public void check(JavaClass c, ConditionEvents events) {
        List<String> leaks = new ArrayList<>();
        c.getRawSuperclass()
            .filter(ArchitectureTest::isInternal)
            .ifPresent(s -> leaks.add("extends " + s.getName()));
        c.getRawInterfaces().stream()
            .filter(ArchitectureTest::isInternal)
            .forEach(i -> leaks.add("implements " + i.getName()));
        for (JavaCodeUnit m : c.getCodeUnits()) {
          if (!isVisible(m.getModifiers())) {
            continue;
          }
          if (isInternal(m.getRawReturnType())) {
            leaks.add(m.getFullName() + " returns " + m.getRawReturnType().getName());
          }
          m.getRawParameterTypes().stream()
              .filter(ArchitectureTest::isInternal)
              .forEach(p -> leaks.add(m.getFullName() + " takes " + p.getName()));
        }
        for (JavaField f : c.getFields()) {
          if (isVisible(f.getModifiers()) && isInternal(f.getRawType())) {
            leaks.add(f.getFullName() + " is a " + f.getRawType().getName());
          }
        }
        leaks.forEach(l -> events.add(SimpleConditionEvent.violated(c, l)));
      }
    };
  }

  private static boolean isVisible(java.util.Set<JavaModifier> modifiers) {
    return modifiers.contains(JavaModifier.PUBLIC) || modifiers.contains(JavaModifier.PROTECTED);
  }

  private static boolean isInternal(JavaClass type) {
    return type.getPackageName().startsWith("io.arbiter.internal");
  }
}
