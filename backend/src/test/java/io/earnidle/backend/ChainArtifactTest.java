package io.earnidle.backend;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The checked-in TestUsdc bytecode is what the pinned solc makes of the checked-in source. */
class ChainArtifactTest {
    @Test
    void checkedInBytecodeMatchesAFreshCompile() throws Exception {
        Path chainDir = Path.of("chain").toAbsolutePath();
        assertTrue(Files.isRegularFile(chainDir.resolve("node_modules/solc/package.json")),
                "run `npm ci` in " + chainDir);
        Process p = new ProcessBuilder("node", "compile.js").directory(chainDir.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue());
        JsonNode fresh = TestSupport.MAPPER.readTree(new String(out, StandardCharsets.UTF_8));
        JsonNode checkedIn;
        try (InputStream in = getClass().getResourceAsStream("/chain/TestUsdc.json")) {
            checkedIn = TestSupport.MAPPER.readTree(in);
        }
        assertEquals(fresh, checkedIn);
        assertTrue(checkedIn.path("compiler").asText().startsWith("solc-js 0.8.28"));
    }
}
