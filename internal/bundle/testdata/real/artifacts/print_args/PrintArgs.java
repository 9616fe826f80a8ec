public class PrintArgs { public static void main(String[] a) {} }
