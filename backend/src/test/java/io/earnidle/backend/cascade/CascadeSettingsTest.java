package io.earnidle.backend.cascade;

import java.util.Map;

import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code earnidle.cascade} section: a class moves only up, to a class of nodes or to a configured upstream. */
class CascadeSettingsTest {
    private static CascadeSettings settings(Map<String, String> values) {
        return CascadeSettings.from(Config.builder().disableEnvironmentVariablesSource()
                .disableSystemPropertiesSource().addSource(ConfigSources.create(values)).build());
    }

    @Test
    void noClassesByDefault() {
        CascadeSettings s = settings(Map.of());
        assertTrue(s.classes().isEmpty());
        assertTrue(s.upstream().isEmpty());
        assertEquals(1000, s.intervalMs());
    }

    @Test
    void aChainOfClassesAndTheUpstream() {
        CascadeSettings s = settings(Map.of(
                "classes.probation.deadline-seconds", "30", "classes.probation.next", "verified",
                "classes.verified.deadline-seconds", "60", "classes.verified.next", "upstream",
                "upstream.url", "http://127.0.0.1:9/v1/", "upstream.models.tiny", "up-tiny"));
        assertEquals("verified", s.classes().get("probation").next());
        assertEquals(60, s.classes().get("verified").deadline().toSeconds());
        assertEquals("http://127.0.0.1:9/v1", s.requireUpstream().url().toString());
        assertEquals("up-tiny", s.requireUpstream().modelName("tiny"));
        assertEquals("other", s.requireUpstream().modelName("other"));
    }

    @Test
    void refusesATierThatIsNotHigherOrAnUpstreamThatIsNotConfigured() {
        assertThrows(IllegalArgumentException.class, () -> settings(Map.of(
                "classes.verified.deadline-seconds", "30", "classes.verified.next", "probation")));
        assertThrows(IllegalArgumentException.class, () -> settings(Map.of(
                "classes.probation.deadline-seconds", "30", "classes.probation.next", "upstream")));
        assertThrows(IllegalArgumentException.class, () -> settings(Map.of(
                "classes.gold.deadline-seconds", "30", "classes.gold.next", "upstream", "upstream.url", "http://x")));
        assertThrows(IllegalArgumentException.class, () -> settings(Map.of("classes.probation.next", "verified")));
    }
}
