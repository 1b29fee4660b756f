package io.earnidle.node.llama;

import io.earnidle.node.synth.ModelSynthesizer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The step-wise {@link Generation} gives exactly what {@link LlamaModel#generate} gives. */
class GenerationTest {
    private static GenerationResult stepped(LlamaModel m, GenerationRequest r) {
        Generation g = new Generation(m, r);
        int steps = 0;
        int bound = g.stepsLeft();
        while (!g.done()) {
            int before = g.stepsLeft();
            g.step();
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
        List<GenerationRequest> requests = List.of(
                new GenerationRequest("Hello world, this is the test.", null, true, 20, Sampling.greedy()),
                new GenerationRequest(null, new int[] {5, 70, 300}, false, 1, Sampling.greedy()),
                new GenerationRequest("the", null, true, 30, new Sampling(0.9f, 40, 0.95f, 7)),
                new GenerationRequest("in the", null, true, 30,
                        new Sampling(0.8f, 0, 1f, 3, 0.05f, 1.1f, 16, List.of("e"))));
        for (GenerationRequest r : requests) {
            GenerationResult a = m.generate(r);
            GenerationResult b = stepped(m, r);
            assertArrayEquals(a.tokenIds(), b.tokenIds());
            assertEquals(a.text(), b.text());
            assertTrue(b.prefillMs() >= 0 && b.decodeMs() >= 0);
        }
        Generation g = new Generation(m, requests.get(0));
        assertThrows(IllegalStateException.class, g::result);
        assertEquals(0, g.tokensDone());
        g.step();
        assertEquals(1, g.prefilled());
        assertThrows(ContextLengthExceededException.class,
                () -> new Generation(m, new GenerationRequest("Hello", null, true, 1000, Sampling.greedy())));
    }
}
