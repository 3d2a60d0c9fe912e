"""Reading sources into Articles and Passages: files, text, Markdown, HTML, FAQ rules, crawling."""
