package io.earnidle.backend.workers;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;

import javax.xml.parsers.DocumentBuilderFactory;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The badge's SVG: markup in every field that reaches it stays text. */
class BadgeTest {
    private static final String MARKUP = "<script>alert(1)</script>\"'&<svg onload=alert(2)>";

    @Test
    void markupInEveryFieldStaysText() throws Exception {
        String svg = Badge.svg(MARKUP, MARKUP + " · 50", "red\"/><script>alert(3)</script>", MARKUP + "\u0007");
        assertFalse(svg.contains("<script"), svg);
        assertFalse(svg.contains("<svg onload"), svg);
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        Document doc = f.newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
        // well-formed, and the only elements are the badge's own
        assertEquals(0, doc.getElementsByTagName("script").getLength());
        assertEquals(1, doc.getElementsByTagName("svg").getLength());
        assertEquals(2, doc.getElementsByTagName("text").getLength());
        assertEquals(MARKUP, doc.getElementsByTagName("text").item(0).getTextContent());
        assertEquals(MARKUP + " · 50", doc.getElementsByTagName("text").item(1).getTextContent());
        assertEquals("red\"/><script>alert(3)</script>",
                ((org.w3c.dom.Element) doc.getElementsByTagName("rect").item(1)).getAttribute("fill"));
        assertEquals(MARKUP + " ", doc.getElementsByTagName("title").item(0).getTextContent());
    }

    @Test
    void tierColours() {
        assertEquals("#4c1", Badge.color("trusted"));
        assertEquals("#007ec6", Badge.color("verified"));
        assertEquals("#9f9f9f", Badge.color("probation"));
    }
}
