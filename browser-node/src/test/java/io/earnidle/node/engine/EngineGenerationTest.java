package io.earnidle.node.engine;

import io.earnidle.node.llama.ContextLengthExceededException;
import io.earnidle.node.llama.GenerationRequest;
import io.earnidle.node.llama.GenerationResult;
import io.earnidle.node.llama.LlamaModel;
import io.earnidle.node.llama.Sampling;
import io.earnidle.node.synth.ModelSynthesizer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link EngineGeneration} stepped by hand (as the node loop does, a step per task) gives exactly what the
 * asynchronous driver ({@link EngineGenerator#generate}) and {@link LlamaModel#generate} give, and every step makes
 * progress within the announced bound.
 */
class EngineGenerationTest {
    private static GenerationResult stepped(Engine e, GenerationRequest r) {
        EngineGeneration g = new EngineGeneration(e, r, false);
        int steps = 0;
        int bound = g.stepsLeft();
        String[] error = new String[1];
        while (!g.done()) {
            int before = g.stepsLeft();
            g.step(err -> error[0] = err);
            assertNull(error[0]);
            steps++;
            assertTrue(g.stepsLeft() < before, "each step makes progress");
        }
        assertTrue(steps <= bound, steps + " steps, bound " + bound);
        assertEquals(0, g.stepsLeft());
        return g.result();
    }

    @Test
    void steppedGenerationEqualsGenerate() {
        LlamaModel m = LlamaModel.load(ByteBuffer.wrap(ModelSynthesizer.tinyBytes(11)));
        JvmEngine e = new JvmEngine(m, "jvm");
        List<GenerationRequest> requests = List.of(
                new GenerationRequest("Hello world, this is the test.", null, true, 20, Sampling.greedy()),
                new GenerationRequest(null, new int[] {5, 70, 300}, false, 1, Sampling.greedy()),
                new GenerationRequest("the", null, true, 30, new Sampling(0.9f, 40, 0.95f, 7)),
                new GenerationRequest("in the", null, true, 30,
                        new Sampling(0.8f, 0, 1f, 3, 0.05f, 1.1f, 16, List.of("e"))));
        for (GenerationRequest r : requests) {
            GenerationResult a = m.generate(r);
            GenerationResult b = stepped(e, r);
            EngineGenerator.Outcome[] c = new EngineGenerator.Outcome[1];
            EngineGenerator.generate(e, r, false, o -> c[0] = o);
            assertNull(c[0].error());
            assertArrayEquals(a.tokenIds(), b.tokenIds());
            assertEquals(a.text(), b.text());
            assertArrayEquals(a.tokenIds(), c[0].result().tokenIds());
            assertEquals(a.text(), c[0].result().text());
            assertTrue(b.prefillMs() >= 0 && b.decodeMs() >= 0);
        }
        EngineGeneration g = new EngineGeneration(e, requests.get(0), false);
        assertThrows(IllegalStateException.class, g::result);
        assertEquals(0, g.tokensDone());
        g.step(err -> assertNull(err));
        assertEquals(1, g.prefilled());
        assertThrows(ContextLengthExceededException.class,
                () -> new EngineGeneration(e, new GenerationRequest("Hello", null, true, 1000, Sampling.greedy()), false));
    }
}
